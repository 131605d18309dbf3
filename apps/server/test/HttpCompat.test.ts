/**
 * rest-api.md Appendix A: the requests the official portal-sdk 0.4.1 client sends, replayed byte for byte (its
 * transport rules of A.1: `Authorization: Bearer` on every request, `Content-Type: application/json` only with a
 * body, compact JSON bodies, `encodeURIComponent` path parameters), with the responses read the way the client reads
 * them. Routes whose services are not built yet must still accept the request (no 400) and answer a JSON 501 that the
 * client surfaces as `API_ERROR`.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as PublicKey from "@portal/protocol/PublicKey"
import * as BuildInfo from "@portal/server/BuildInfo"
import * as Effect from "effect/Effect"
import { gitCommit, layer as serverLayer, nip05User, publicKey, relays, send, token } from "./HttpServerTest.js"

const userKey = PublicKeyHex.make("c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
const userNpub = PublicKey.toNpub(userKey)

type ClientResult =
  | { readonly kind: "data"; readonly data: unknown }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "HTTP_ERROR" | "PARSE_ERROR"; readonly message: string }
  | { readonly kind: "API_ERROR"; readonly message: unknown; readonly statusCode: number }

/** The official client's response handling, A.1 steps 1–4. */
const asClient = (r: { status: number; headers: Record<string, string>; text: string }): ClientResult => {
  const ok = r.status >= 200 && r.status < 300
  if (!(r.headers["content-type"] ?? "").includes("application/json")) {
    return ok ? { kind: "text", text: r.text } : { kind: "HTTP_ERROR", message: `HTTP ${r.status}: ${r.text}` }
  }
  let json: { success?: unknown; data?: unknown; error?: unknown }
  try {
    json = JSON.parse(r.text)
  } catch {
    return { kind: "PARSE_ERROR", message: r.text }
  }
  if (!ok || json.success !== true) {
    return { kind: "API_ERROR", message: json.error ?? `HTTP ${r.status}`, statusCode: r.status }
  }
  return { kind: "data", data: json.data }
}

/** A request as the client's `fetch` builds it. */
const clientRequest = (method: "GET" | "POST" | "DELETE", path: string, body?: unknown) => {
  const base = HttpClientRequest.make(method)(path).pipe(
    HttpClientRequest.setHeader("authorization", `Bearer ${token}`)
  )
  return body === undefined ? base : HttpClientRequest.bodyText(base, JSON.stringify(body), "application/json")
}

const call = (method: "GET" | "POST" | "DELETE", path: string, body?: unknown) =>
  Effect.map(send(clientRequest(method, path, body)), (r) => ({ status: r.status, result: asClient(r) }))

// The Cashu rows of A.2, with optional fields null, against a mint that is not there (loopback port 1): the
// requests must be accepted as the client sends them, and each answer must read as the client expects.
const cashuRows: ReadonlyArray<readonly [string, "POST", string, unknown, number]> = [
  [
    "requestCashu",
    "POST",
    "/cashu/request",
    { recipient_key: userKey, subkeys: [], mint_url: "http://127.0.0.1:1", unit: "sat", amount: 10 },
    201
  ],
  ["sendCashuDirect", "POST", "/cashu/send-direct", { main_key: userKey, subkeys: [], token: "cashuA" }, 400],
  [
    "mintCashu",
    "POST",
    "/cashu/mint",
    { mint_url: "http://127.0.0.1:1", unit: "sat", amount: 10, static_auth_token: null, description: null },
    502
  ],
  [
    "burnCashu",
    "POST",
    "/cashu/burn",
    { mint_url: "http://127.0.0.1:1", unit: "sat", token: "cashuA", static_auth_token: null },
    400
  ]
]

describe("official client compatibility (rest-api.md Appendix A)", () => {
  layer(serverLayer(), { excludeTestServices: true })((it) => {
    it.effect("health() gets the raw text OK, even with the bearer header", () =>
      Effect.gen(function* () {
        const r = yield* call("GET", "/health")
        assert.deepStrictEqual(r.result, { kind: "text", text: "OK" })
      })
    )

    it.effect("version(), info() and wellKnownNostrJson() read their data from the envelope", () =>
      Effect.gen(function* () {
        const version = yield* call("GET", "/version")
        assert.deepStrictEqual(version.result, {
          kind: "data",
          data: { version: BuildInfo.version, git_commit: gitCommit }
        })
        const info = yield* call("GET", "/info")
        assert.strictEqual(info.result.kind, "data")
        assert.strictEqual((info.result as { data: { public_key: string } }).data.public_key, publicKey)
        const wellKnown = yield* call("GET", "/well-known/nostr.json")
        assert.deepStrictEqual(wellKnown.result, {
          kind: "data",
          data: { names: { _: publicKey }, relays: { [publicKey]: relays } }
        })
      })
    )

    it.effect("calculateNextOccurrence(calendar, from) gets a decimal string", () =>
      Effect.gen(function* () {
        const r = yield* call("POST", "/calendar/next-occurrence", { calendar: "daily", from: "1700000000" })
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(r.result, { kind: "data", data: { next_occurrence: "1700006400" } })
      })
    )

    it.effect("issueJwt() then verifyJwt() round-trip the target key through the envelope", () =>
      Effect.gen(function* () {
        const issued = yield* call("POST", "/jwt/issue", { target_key: userKey, duration_hours: 24 })
        assert.strictEqual(issued.status, 200)
        const { token } = (issued.result as { data: { token: string } }).data
        const verified = yield* call("POST", "/jwt/verify", { pubkey: publicKey, token })
        assert.deepStrictEqual(verified.result, { kind: "data", data: { target_key: userKey } })
        const bad = yield* call("POST", "/jwt/verify", { pubkey: publicKey, token: "a.b.c" })
        assert.strictEqual(bad.status, 400)
        assert.strictEqual(bad.result.kind, "API_ERROR")
      })
    )

    it.effect("newKeyHandshakeUrl, authenticateKey, addRelay/removeRelay and getEvents get what the client reads", () =>
      Effect.gen(function* () {
        const oneShot = yield* call("POST", "/key-handshake", { static_token: null, no_request: false })
        assert.strictEqual(oneShot.status, 201)
        const started = (oneShot.result as { data: { url: string; stream_id: string } }).data
        assert.match(started.url, /^portal:\/\/npub1/)
        const staticToken = yield* call("POST", "/key-handshake", {
          static_token: "table-14-restaurant-a",
          no_request: null
        })
        assert.strictEqual(staticToken.status, 201)
        assert.match((staticToken.result as { data: { url: string } }).data.url, /&token=table-14-restaurant-a$/)
        const auth = yield* call("POST", "/authenticate-key", { main_key: userNpub, subkeys: [] })
        assert.strictEqual(auth.status, 201)
        assert.isString((auth.result as { data: { stream_id: unknown } }).data.stream_id)
        const added = yield* call("POST", "/relays", { relay: "wss://relay.example.org" })
        assert.deepStrictEqual(added.result, { kind: "data", data: { relay: "wss://relay.example.org" } })
        const removed = yield* call("DELETE", "/relays", { relay: "wss://relay.example.org" })
        assert.deepStrictEqual(removed.result, { kind: "data", data: { relay: "wss://relay.example.org" } })
        const first = yield* call("GET", `/events/${encodeURIComponent(started.stream_id)}`)
        assert.deepStrictEqual(first.result, { kind: "data", data: { stream_id: started.stream_id, events: [] } })
        const closed = yield* call("GET", `/events/${encodeURIComponent("recurring-payment-close")}?after=3`)
        assert.deepStrictEqual(closed.result, {
          kind: "data",
          data: { stream_id: "recurring-payment-close", events: [] }
        })
      })
    )

    it.effect("fetchNip05Profile(nip05) reads the profile from the envelope (the `@` URL-encoded)", () =>
      Effect.gen(function* () {
        const r = yield* call("GET", `/nip05/${encodeURIComponent(nip05User.identifier)}`)
        assert.strictEqual(r.status, 200)
        assert.deepStrictEqual(r.result, {
          kind: "data",
          data: { profile: { public_key: nip05User.publicKey, relays: nip05User.relays, nip46: nip05User.nip46 } }
        })
      })
    )

    it.effect(
      "the Cashu methods' requests are accepted as sent (nulls included) and read as the client reads them",
      () =>
        Effect.gen(function* () {
          for (const [name, method, path, body, status] of cashuRows) {
            const r = yield* call(method, path, body)
            assert.strictEqual(r.status, status, `${name}: ${JSON.stringify(r.result)}`)
            if (status === 201) {
              assert.strictEqual(r.result.kind, "data", name)
              assert.isString((r.result as { data: { stream_id: unknown } }).data.stream_id, name)
            } else {
              assert.strictEqual(r.result.kind, "API_ERROR", name)
              assert.isString((r.result as { message: unknown }).message, name)
            }
          }
        })
    )

    it.effect("errors reach the client as API_ERROR with a string message and a 4xx status", () =>
      Effect.gen(function* () {
        const badKey = yield* call("POST", "/authenticate-key", { main_key: "nope", subkeys: [] })
        const badBody = yield* call("POST", "/calendar/next-occurrence", { calendar: "daily" })
        const unknownRoute = yield* call("GET", "/ws")
        const unauthorized = yield* Effect.map(send(HttpClientRequest.get("/info")), asClient)
        for (const result of [badKey.result, badBody.result, unknownRoute.result, unauthorized]) {
          assert.strictEqual(result.kind, "API_ERROR")
          const { message, statusCode } = result as { message: unknown; statusCode: number }
          assert.isString(message)
          assert.isTrue(statusCode >= 400 && statusCode < 500, String(statusCode))
        }
      })
    )
  })
})
