/**
 * The real daemon HTTP application on a random loopback port (`NodeHttpServer.layerTest`), with fixed build info,
 * API token, identity and settings, for the `Http*`, `Auth` and `OpenApi` tests. `HttpClient` requests go to it.
 * The daemon signs JWTs and sessions with secret key 1 (public key `publicKey`); NIP-98 replay ids are in memory.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Keys from "@portal/nostr/Keys"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Auth from "@portal/server/Auth"
import * as BuildInfo from "@portal/server/BuildInfo"
import { HttpLayer } from "@portal/server/Http"
import * as HttpSettings from "@portal/server/Http/HttpSettings"
import * as ServerIdentity from "@portal/server/Http/ServerIdentity"
import * as Session from "@portal/server/Http/Session"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

export const token = "test-token-0123456789abcdef"
export const gitCommit = "0123abcd"
/** The daemon's signing key in these tests (secp256k1 generator x). */
export const publicKey = PublicKeyHex.make("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
/** The main key (as in subkey mode, different from the signing key). */
export const mainKey = PublicKeyHex.make("c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
export const relays = ["wss://relay.one.example", "wss://relay.two.example"]

/** The daemon's secret key in these tests (its public key is `publicKey`). */
export const secretKey = "0000000000000000000000000000000000000000000000000000000000000001"

/** `Jwt`, `Sessions` and their settings for the test daemon; NIP-98 login off unless `nip98Pubkeys` is given. */
export const sessionLayer = (auth: Partial<Omit<Session.Options, "keys">> = {}) =>
  Layer.unwrapEffect(
    Effect.map(Effect.orDie(Keys.fromSecret(secretKey)), (keys) =>
      Session.layer({
        keys,
        nip98Pubkeys: [],
        sessionTtlSecs: 300,
        publicUrl: Option.none(),
        trustProxy: false,
        ...auth
      })
    )
  ).pipe(Layer.provide(SeenIds.layerMemory), Layer.orDie)

/** The user `user@domain.example` that the fake NIP-05 host lists (with relay and NIP-46 hints). */
export const nip05User = {
  identifier: "user@domain.example",
  publicKey: mainKey,
  relays: ["wss://relay.user.example"],
  nip46: ["wss://signer.user.example"]
}

/**
 * NIP-05 look-ups in these tests never leave the process: `domain.example` serves a nostr.json listing `nip05User`;
 * every other host is unreachable.
 */
export const nip05Host: Layer.Layer<HttpClient.HttpClient> = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request, url) =>
    url.host === "domain.example" && url.pathname === "/.well-known/nostr.json"
      ? Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(
              JSON.stringify({
                names: { user: nip05User.publicKey },
                relays: { [nip05User.publicKey]: nip05User.relays },
                nip46: { [nip05User.publicKey]: nip05User.nip46 }
              }),
              { status: 200, headers: { "content-type": "application/json" } }
            )
          )
        )
      : Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: "unreachable" }))
  )
)

/** Streams, handshakes, auth and relays over an in-memory store and a relay pool with no relays. */
export const memoryServices: Layer.Layer<Services.Services> = Layer.unwrapEffect(
  Effect.map(Effect.orDie(Keys.fromSecret(secretKey)), (keys) =>
    Services.layer({ keys, relays: [], httpClient: nip05Host })
  )
).pipe(Layer.provide(Store.layerMemory), Layer.orDie)

export const layer = (
  settings: Partial<HttpSettings.Service> = {},
  identity: { readonly profileName?: string; readonly relays?: ReadonlyArray<string> } = {},
  auth: Partial<Omit<Session.Options, "keys">> = {},
  services: Layer.Layer<Services.Services> = memoryServices
) =>
  HttpLayer.pipe(
    Layer.provide(services),
    Layer.provide(sessionLayer(auth)),
    Layer.provide(BuildInfo.layerStatic({ version: BuildInfo.version, gitCommit })),
    Layer.provide(Auth.layerApiToken(Redacted.make(token))),
    Layer.provide(HttpSettings.layer({ ...HttpSettings.defaults, ...settings })),
    Layer.provide(
      ServerIdentity.layer({
        publicKey,
        mainKey,
        profileName: Option.fromNullable(identity.profileName),
        relays: identity.relays ?? relays
      })
    ),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

/** Adds the bearer token. */
export const authed = HttpClientRequest.bearerToken(token)

/** Sends a request and reads its status, headers and body text. */
export const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const response: HttpClientResponse.HttpClientResponse = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text }
  })

/** Sends a request and parses its JSON body. */
export const sendJson = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.map(send(request), (r) => ({ ...r, json: JSON.parse(r.text) as unknown }))

/** A POST with a raw body and content type. */
export const postRaw = (path: string, body: string, contentType?: string) =>
  HttpClientRequest.post(path).pipe(
    contentType === undefined
      ? HttpClientRequest.setBody(HttpBody.raw(new TextEncoder().encode(body)))
      : HttpClientRequest.bodyText(body, contentType)
  )

/** A JSON request exactly as the official client sends it (`Content-Type: application/json`). */
export const jsonRequest = (method: "POST" | "DELETE", path: string, body: unknown) =>
  HttpClientRequest.make(method)(path).pipe(HttpClientRequest.bodyText(JSON.stringify(body), "application/json"))
