import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Nip05 from "@portal/nostr/Nip05"
import * as Effect from "effect/Effect"

/** A fake HTTP client: answers from a table of URL → (status, body), records what was asked. */
const fakeHttp = (table: Record<string, { readonly status: number; readonly body: string }>) => {
  const requested: Array<string> = []
  const client = HttpClient.make((request, url) => {
    requested.push(url.toString())
    const entry = table[url.toString()]
    return entry === undefined
      ? Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", description: "connection refused" })
        )
      : Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(entry.body, { status: entry.status, headers: { "content-type": "application/json" } })
          )
        )
  })
  return { client, requested }
}

const url = (name: string, domain = "example.com") => `https://${domain}/.well-known/nostr.json?name=${name}`

const service = (table: Record<string, { readonly status: number; readonly body: string }>) => {
  const http = fakeHttp(table)
  return Effect.map(Nip05.make().pipe(Effect.provideService(HttpClient.HttpClient, http.client)), (nip05) => ({
    nip05,
    requested: http.requested
  }))
}

describe("Nip05", () => {
  it.effect("resolves name@domain to the key and its relay hints; verifies it", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const { nip05, requested } = yield* service({
        "https://example.com/.well-known/nostr.json?name=alice": {
          status: 200,
          body: JSON.stringify({
            names: { alice: keys.publicKey, bob: "00".repeat(32) },
            relays: { [keys.publicKey]: ["wss://relay.example.com"] },
            nip46: { [keys.publicKey]: ["wss://signer.example.com"] }
          })
        }
      })
      const resolved = yield* nip05.resolve("alice@Example.com")
      assert.strictEqual(resolved.pubkey, keys.publicKey)
      assert.deepStrictEqual(resolved.relays, ["wss://relay.example.com"])
      assert.deepStrictEqual(resolved.nip46, ["wss://signer.example.com"])
      assert.deepStrictEqual(requested, ["https://example.com/.well-known/nostr.json?name=alice"])
      yield* nip05.verify("alice@example.com", keys.publicKey)
    })
  )

  it.effect("a bare domain means _@domain", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const { nip05, requested } = yield* service({
        "https://example.org/.well-known/nostr.json?name=_": {
          status: 200,
          body: JSON.stringify({ names: { _: keys.publicKey } })
        }
      })
      assert.strictEqual((yield* nip05.resolve("example.org")).pubkey, keys.publicKey)
      assert.lengthOf(requested, 1)
    })
  )

  it.effect("fails with the reason a caller acts on", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const other = yield* Keys.generate
      const { nip05 } = yield* service({
        [url("alice")]: { status: 200, body: JSON.stringify({ names: { alice: keys.publicKey } }) },
        [url("Alice")]: { status: 200, body: JSON.stringify({ names: { alice: keys.publicKey } }) },
        [url("npub")]: { status: 200, body: JSON.stringify({ names: { npub: Keys.npub(keys.publicKey) } }) },
        [url("bad")]: { status: 200, body: "<html>" },
        [url("shape")]: { status: 200, body: JSON.stringify({ names: ["alice"] }) },
        [url("moved")]: { status: 301, body: "" }
      })
      const reason = (identifier: string, pubkey = keys.publicKey) =>
        Effect.map(Effect.flip(nip05.verify(identifier, pubkey)), (error) => error.reason)
      assert.strictEqual(yield* reason("alice@example.com", other.publicKey), "Mismatch")
      // the lookup is exact and case-sensitive
      assert.strictEqual(yield* reason("Alice@example.com"), "NotFound")
      assert.strictEqual(yield* reason("npub@example.com"), "InvalidResponse")
      assert.strictEqual(yield* reason("bad@example.com"), "InvalidResponse")
      assert.strictEqual(yield* reason("shape@example.com"), "InvalidResponse")
      assert.strictEqual(yield* reason("moved@example.com"), "Unreachable")
      assert.strictEqual(yield* reason("alice@unknown.example"), "Unreachable")
      assert.strictEqual(yield* reason("not an identifier"), "Malformed")
      assert.strictEqual(yield* reason("alice@localhost"), "Malformed")
    })
  )
})
