import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, it } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Nip05 from "@portal/nostr/Nip05"
import * as Profiles from "@portal/nostr/Profiles"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

const Deps = Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)

/** NIP-05 documents served by a fake HTTP client: `names` per domain. */
const fakeNip05 = (names: Record<string, Record<string, string>>) =>
  HttpClient.make((request, url) =>
    Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        url.pathname === "/.well-known/nostr.json" && names[url.hostname] !== undefined
          ? new Response(JSON.stringify({ names: names[url.hostname] }), { status: 200 })
          : new Response("not found", { status: 404 })
      )
    )
  )

const profilesFor = (
  relays: ReadonlyArray<string>,
  keys: Keys.KeyPair,
  names: Record<string, Record<string, string>>
) =>
  Effect.gen(function* () {
    const pool = yield* RelayPool.make({ relays, backoff: { initial: "40 millis" } }).pipe(Effect.provide(Deps))
    yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
    const signer = yield* Signer.makeLocal(keys)
    const nip05 = yield* Nip05.make().pipe(Effect.provideService(HttpClient.HttpClient, fakeNip05(names)))
    const profiles = yield* Profiles.make.pipe(
      Effect.provideService(RelayPool.RelayPool, pool),
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(Nip05.Nip05, nip05)
    )
    return { pool, profiles }
  })

describe("Profiles", () => {
  it("encodes only the fields that are set, keys sorted", () => {
    assert.strictEqual(
      Profiles.encodeContent({ picture: "https://p/x.png", name: "Shop", nip05: "shop@example.com" }),
      '{"name":"Shop","nip05":"shop@example.com","picture":"https://p/x.png"}'
    )
    assert.strictEqual(Profiles.encodeContent({ displayName: "S" }), '{"display_name":"S"}')
    assert.deepStrictEqual(
      Profiles.parseContent('{"name":"a","display_name":"A","about":"x","picture":7,"nip05":"a@b.c"}'),
      Option.some({ name: "a", displayName: "A", nip05: "a@b.c" })
    )
    assert.isTrue(Option.isNone(Profiles.parseContent("[1]")))
  })

  it.scopedLive("fetch returns the newest profile across relays, with a verified nip05", () =>
    Effect.gen(function* () {
      const r1 = yield* TestRelay.make
      const r2 = yield* TestRelay.make
      const shop = yield* Keys.generate
      const reader = yield* Keys.generate
      const names = { "shop.example": { shop: shop.publicKey } }
      const owner = yield* profilesFor([r1.url, r2.url], shop, names)
      // an older profile only on relay 1, a newer one on relay 2
      const older = yield* Event.signWith(shop, {
        kind: 0,
        tags: [],
        content: Profiles.encodeContent({ name: "Old name" }),
        created_at: Math.floor(Date.now() / 1000) - 100
      })
      assert.isTrue(RelayPool.isDelivered(yield* owner.pool.publish(older, { relays: [r1.url] })))
      const newer = yield* Event.signWith(shop, {
        kind: 0,
        tags: [],
        content: Profiles.encodeContent({ name: "Shop", nip05: "shop@shop.example" }),
        created_at: Math.floor(Date.now() / 1000)
      })
      assert.isTrue(RelayPool.isDelivered(yield* owner.pool.publish(newer, { relays: [r2.url] })))
      assert.deepStrictEqual(
        (yield* r1.storedEvents).map((e) => e.id),
        [older.id]
      )
      const { profiles } = yield* profilesFor([r1.url, r2.url], reader, names)
      const fetched = yield* profiles.fetch(shop.publicKey, { timeout: "3 seconds" })
      assert.isTrue(Option.isSome(fetched))
      const value = Option.getOrThrow(fetched)
      assert.deepStrictEqual(value.profile, { name: "Shop", nip05: "shop@shop.example" })
      assert.isTrue(value.nip05Verified)
      assert.deepStrictEqual(value.event.tags, [])
    })
  )

  it.scopedLive(
    "publishes kind 0 in clear; a nip05 that does not verify is dropped, the profile kept; none gives None",
    () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.make
        const shop = yield* Keys.generate
        const impostor = yield* Keys.generate
        const owner = yield* profilesFor([relay.url], shop, {})
        const published = yield* owner.profiles.publish({ name: "Shop", nip05: "shop@shop.example" })
        assert.isTrue(RelayPool.isDelivered(published))
        const [stored] = yield* relay.storedEvents
        assert.strictEqual(stored?.kind, 0)
        assert.strictEqual(stored?.content, '{"name":"Shop","nip05":"shop@shop.example"}')
        assert.deepStrictEqual(stored?.tags, [])
        const { profiles } = yield* profilesFor([relay.url], impostor, {
          "shop.example": { shop: impostor.publicKey }
        })
        const fetched = Option.getOrThrow(yield* profiles.fetch(shop.publicKey, { timeout: "3 seconds" }))
        assert.deepStrictEqual(fetched.profile, { name: "Shop" })
        assert.isFalse(fetched.nip05Verified)
        assert.isTrue(Option.isNone(yield* profiles.fetch(impostor.publicKey, { timeout: "2 seconds" })))
      })
  )
})
