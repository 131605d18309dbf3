/**
 * The relay set across instances on one database (differences.md §l, §o): a relay added or removed through one
 * instance reaches the other's set (its handshake URLs) and pool within the sync interval; the instance that made the
 * change sees it at once. Two `Relays` services, each with its own real relay pool, share one store, as two daemons
 * share one PostgreSQL.
 */
import { assert, describe, it } from "@effect/vitest"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Store from "@portal/store/Store"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Relays from "../src/Relays.js"

/** One instance: its own pool (on `configured`) and relay service over the shared `store`. */
const instance = (store: Store.Service, configured: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const pool = yield* Layer.build(RelayPool.layerNode({ relays: configured }))
    const context = yield* Layer.build(
      Relays.layer(configured, { syncInterval: "100 millis" }).pipe(
        Layer.provide(Layer.succeedContext(pool)),
        Layer.provide(Layer.succeed(Store.Store, store))
      )
    )
    const relays = context.unsafeMap.get(Relays.Relays.key) as Relays.Service
    const poolService = pool.unsafeMap.get(RelayPool.RelayPool.key) as RelayPool.Service
    return { relays, pool: poolService }
  })

const eventually = <A, E>(check: Effect.Effect<A, E>, until: (a: A) => boolean) =>
  Effect.repeat(check, { until, schedule: Schedule.spaced("50 millis") }).pipe(Effect.timeout("10 seconds"))

describe("Relays across instances", () => {
  it.scopedLive("a relay added on one instance reaches the other's set and pool; a removal too", () =>
    Effect.gen(function* () {
      const configured = yield* TestRelay.make
      const extra = yield* TestRelay.make
      const store = yield* Layer.build(Store.layerMemory).pipe(
        Effect.map((context) => context.unsafeMap.get(Store.Store.key) as Store.Service)
      )
      const a = yield* instance(store, [configured.url])
      const b = yield* instance(store, [configured.url])

      yield* a.relays.add(extra.url)
      // at once on the instance that made the change
      assert.deepStrictEqual(yield* a.relays.effective, [configured.url, extra.url])
      // within the sync interval on the other: its URLs carry it and its pool connects to it
      yield* eventually(b.relays.effective, (set) => set.includes(extra.url))
      yield* eventually(b.pool.status, (statuses) =>
        statuses.some((status) => status.url === extra.url && status.state === "open")
      )
      const listed = yield* b.relays.list
      assert.deepStrictEqual(
        listed.map((relay) => [relay.url, relay.source]),
        [
          [configured.url, "config"],
          [extra.url, "api"]
        ]
      )

      assert.isTrue(yield* b.relays.remove(extra.url))
      assert.deepStrictEqual(yield* b.relays.effective, [configured.url])
      yield* eventually(a.relays.effective, (set) => !set.includes(extra.url))
      yield* eventually(a.pool.status, (statuses) => !statuses.some((status) => status.url === extra.url))
      // removing what is no longer in the set is refused on either instance
      assert.isFalse(yield* a.relays.remove(extra.url))
    })
  )
})
