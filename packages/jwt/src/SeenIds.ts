/**
 * The replay port of the NIP-98 verifier: remembers event ids it has accepted, for a while. `markSeen` is
 * atomic: of two concurrent calls with the same id, exactly one gets `true`.
 *
 * Backends: `layerMemory` (one process; expired ids are purged as it goes) here; in the daemon, the
 * `@portal/store` `Store.markSeen(scope, id, ttl)` so that several instances share one set:
 *
 * ```ts
 * Layer.effect(SeenIds.SeenIds, Effect.map(Store.Store, (store) => SeenIds.SeenIds.of({
 *   markSeen: (id, ttl) => store.markSeen("nip98", id, ttl).pipe(Effect.mapError((cause) => new SeenIdsUnavailable({ cause })))
 * })))
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { SeenIdsUnavailable } from "./JwtError.js"

/**
 * A set of ids with expiry.
 * @category service
 */
export interface Service {
  /** Remembers `id` for `ttl`. True the first time; false while it is still remembered. */
  readonly markSeen: (id: string, ttl: Duration.DurationInput) => Effect.Effect<boolean, SeenIdsUnavailable>
}

/**
 * The seen-ids port.
 * @category service
 */
export class SeenIds extends Context.Tag("@portal/jwt/SeenIds")<SeenIds, Service>() {}

/**
 * An in-memory set on the `Clock`; ids are dropped once expired.
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.sync(() => {
  // expiry (ms) by id; check-and-set runs in one synchronous step, so it is atomic
  const seen = new Map<string, number>()
  return SeenIds.of({
    markSeen: (id, ttl) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          for (const [key, expiresAt] of seen) if (expiresAt <= now) seen.delete(key)
          if (seen.has(id)) return false
          seen.set(id, now + Duration.toMillis(ttl))
          return true
        })
      )
  })
})

/**
 * The in-memory seen-ids set (one process, tests, dev).
 * @category layers
 */
export const layerMemory: Layer.Layer<SeenIds> = Layer.effect(SeenIds, makeMemory)
