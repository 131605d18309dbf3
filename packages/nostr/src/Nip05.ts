/**
 * NIP-05: `name@domain` identifiers, resolved with `GET https://<domain>/.well-known/nostr.json?name=<name>` over
 * `HttpClient` (tests inject a fake; apps provide `FetchHttpClient.layer` or `NodeHttpClient`).
 *
 * Verification is an exact, case-sensitive lookup of `names[<name>]` against the hex public key (protocol.md
 * §15.1). A bare `domain` means `_@domain`. Redirects are refused (NIP-05): with the fetch client the request is
 * made with `redirect: "manual"`, and any status other than 200 fails.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { Nip05Error } from "./NostrError.js"

/**
 * A parsed identifier.
 * @category models
 */
export interface Identifier {
  readonly name: string
  readonly domain: string
}

/**
 * What an identifier resolves to.
 * @category models
 */
export interface Resolved {
  readonly identifier: string
  readonly pubkey: PublicKeyHex
  /** Relay hints from the document, if any. */
  readonly relays: ReadonlyArray<string>
  /** NIP-46 (remote signer) relays from the document's `nip46` map, if any. */
  readonly nip46: ReadonlyArray<string>
}

const NostrJson = Schema.Struct({
  names: Schema.Record({ key: Schema.String, value: Schema.String }),
  relays: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) })),
  nip46: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }))
})

const NAME = /^[A-Za-z0-9._-]+$/
const DOMAIN = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/

/**
 * Splits `name@domain` (or a bare `domain`, meaning `_@domain`).
 * @category parsing
 */
export const parse = (identifier: string): Effect.Effect<Identifier, Nip05Error> => {
  const text = identifier.trim()
  const at = text.lastIndexOf("@")
  const name = at === -1 ? "_" : text.slice(0, at)
  const domain = (at === -1 ? text : text.slice(at + 1)).toLowerCase()
  return NAME.test(name) && DOMAIN.test(domain) && domain.includes(".")
    ? Effect.succeed({ name, domain })
    : Effect.fail(new Nip05Error({ identifier, reason: "Malformed", detail: "expected name@domain" }))
}

/**
 * The document URL for an identifier.
 * @category parsing
 */
export const documentUrl = (id: Identifier): string =>
  `https://${id.domain}/.well-known/nostr.json?name=${encodeURIComponent(id.name)}`

/**
 * NIP-05 resolution and verification.
 * @category models
 */
export interface Service {
  /** The public key and relay hints an identifier names. */
  readonly resolve: (identifier: string) => Effect.Effect<Resolved, Nip05Error>
  /** Succeeds when `identifier` names exactly `pubkey`; fails with `Mismatch` otherwise. */
  readonly verify: (identifier: string, pubkey: PublicKeyHex) => Effect.Effect<void, Nip05Error>
}

/** @category tags */
export class Nip05 extends Context.Tag("@portal/nostr/Nip05")<Nip05, Service>() {}

/**
 * Builds the service over the `HttpClient` in context.
 * @category constructors
 */
export const make = (
  options: { readonly timeout?: Duration.DurationInput } = {}
): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const timeout = options.timeout ?? "5 seconds"
    const decode = Schema.decodeUnknown(NostrJson)

    const resolve = (identifier: string) =>
      Effect.gen(function* () {
        const id = yield* parse(identifier)
        const response = yield* client.execute(HttpClientRequest.get(documentUrl(id))).pipe(
          Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
          Effect.timeout(timeout),
          Effect.mapError(
            (cause) =>
              new Nip05Error({ identifier, reason: "Unreachable", detail: `GET ${documentUrl(id)} failed`, cause })
          )
        )
        if (response.status !== 200) {
          return yield* new Nip05Error({
            identifier,
            reason: "Unreachable",
            detail: `GET ${documentUrl(id)} answered ${response.status}`
          })
        }
        const body = yield* response.json.pipe(
          Effect.mapError(
            (cause) => new Nip05Error({ identifier, reason: "InvalidResponse", detail: "body is not JSON", cause })
          )
        )
        const document = yield* decode(body).pipe(
          Effect.mapError(
            (error) =>
              new Nip05Error({
                identifier,
                reason: "InvalidResponse",
                detail: ParseResult.TreeFormatter.formatErrorSync(error)
              })
          )
        )
        const hex = document.names[id.name]
        if (hex === undefined) {
          return yield* new Nip05Error({ identifier, reason: "NotFound", detail: `no name ${JSON.stringify(id.name)}` })
        }
        const pubkey = yield* Schema.decodeUnknown(PublicKeyHex)(hex).pipe(
          Effect.mapError(
            () =>
              new Nip05Error({
                identifier,
                reason: "InvalidResponse",
                detail: `names[${JSON.stringify(id.name)}] is not a 64-hex public key`
              })
          )
        )
        return {
          identifier,
          pubkey,
          relays: document.relays?.[pubkey] ?? [],
          nip46: document.nip46?.[pubkey] ?? []
        } satisfies Resolved
      })

    const verify = (identifier: string, pubkey: PublicKeyHex) =>
      Effect.flatMap(resolve(identifier), (resolved) =>
        resolved.pubkey === pubkey
          ? Effect.void
          : Effect.fail(
              new Nip05Error({
                identifier,
                reason: "Mismatch",
                detail: `names ${resolved.pubkey}, expected ${pubkey}`
              })
            )
      )

    return Nip05.of({ resolve, verify })
  })

/**
 * The service over the `HttpClient` in context.
 * @category layers
 */
export const layer = (
  options: { readonly timeout?: Duration.DurationInput } = {}
): Layer.Layer<Nip05, never, HttpClient.HttpClient> => Layer.effect(Nip05, make(options))
