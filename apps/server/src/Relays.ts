/**
 * The daemon's relay set (differences.md §l): configured relays (config order) minus the ones removed through the
 * API, then the ones added through the API in the order they were added, persisted in the store; plus users'
 * `preferred_relays` from handshakes (source `user`, runtime only, never advertised). The effective set is what the
 * pool connects to at startup and what every new handshake URL carries. It is kept in memory and re-read from the
 * store after every change made here and every few seconds, so that changes made through another instance on the
 * same database reach this one's pool and URLs (differences.md §o).
 *
 * @since 0.1.0
 */
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"

/** @category models */
export type Source = "config" | "api" | "user"

/** @category models */
export interface RelayInfo {
  readonly url: string
  readonly source: Source
  readonly status: "connecting" | "connected" | "disconnected"
  /** Unix seconds since the relay has been open (as far as this process saw it). */
  readonly connectedSince: Option.Option<number>
  readonly lastError: Option.Option<string>
}

/** @category models */
export interface Service {
  /** The effective set (config minus removed, then added): the relays of new handshake URLs. */
  readonly effective: Effect.Effect<ReadonlyArray<string>, StoreFailure>
  /** Every relay of the pool with its source and status. */
  readonly list: Effect.Effect<ReadonlyArray<RelayInfo>, StoreFailure>
  /** Adds (persists, connects) a normalised relay; idempotent. */
  readonly add: (url: string) => Effect.Effect<void, StoreFailure>
  /** Removes (persists, disconnects) a relay; `false` when it is not in the set. */
  readonly remove: (url: string) => Effect.Effect<boolean, StoreFailure>
  /** A user's preferred relays join the pool (source `user`, not persisted), at most `max` at a time. */
  readonly addUserRelays: (urls: ReadonlyArray<string>) => Effect.Effect<void>
}

/** @category tags */
export class Relays extends Context.Tag("@portal/server/Relays")<Relays, Service>() {}

const normalize = (url: string): Option.Option<string> => Either.getRight(RelayPool.normalizeUrl(url))

/**
 * The effective set from the configured relays and the store's records.
 * @category constructors
 */
export const effectiveSet = (configured: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const entries = yield* store.listRelays
    const removed = new Set(entries.filter((e) => e.state === "removed").map((e) => e.url))
    const config = configured.flatMap((url) => Option.toArray(normalize(url))).filter((url) => !removed.has(url))
    const added = entries.filter((e) => e.state === "added" && !config.includes(e.url)).map((e) => e.url)
    return [...new Set([...config, ...added])]
  })

const maxUserRelays = 16

/** @category options */
export interface Options {
  /**
   * How often the relay set is re-read from the store, so that relays added or removed through another instance on
   * the same database reach this one (differences.md §o: within 10 s). Default 5 s.
   */
  readonly syncInterval?: Duration.DurationInput | undefined
}

/**
 * Builds the service over the store and the pool.
 * @category constructors
 */
export const make = (configured: ReadonlyArray<string>, options: Options = {}) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const pool = yield* RelayPool.RelayPool
    const users = yield* Ref.make<ReadonlyArray<string>>([])
    const connectedSince = new Map<string, number>()
    const stored = effectiveSet(configured).pipe(Effect.provideService(Store.Store, store))
    // the effective set as last read from the store: every handshake URL carries it, so it is kept in memory
    const current = yield* Ref.make(yield* stored)
    const lock = yield* Effect.makeSemaphore(1)
    /**
     * Re-reads the set from the store (changes made here, or by another instance on the same database) and
     * connects the pool to relays that joined, disconnecting the ones that left (unless a user's relay).
     */
    const refresh = Effect.gen(function* () {
      const next = yield* stored
      const previous = yield* Ref.getAndSet(current, next)
      const userRelays = yield* Ref.get(users)
      for (const url of next) if (!previous.includes(url)) yield* pool.addRelay(url).pipe(Effect.ignore)
      for (const url of previous) {
        if (!next.includes(url) && !userRelays.includes(url)) yield* pool.removeRelay(url).pipe(Effect.ignore)
      }
    }).pipe(lock.withPermits(1))
    yield* refresh.pipe(
      Effect.catchAll((error) => Effect.logWarning("relays: reading the relay set failed", error)),
      Effect.delay(options.syncInterval ?? Duration.seconds(5)),
      Effect.forever,
      Effect.forkScoped
    )
    const effective = Ref.get(current)
    const configSet = new Set(configured.flatMap((url) => Option.toArray(normalize(url))))
    // since when each relay is open, as this process saw it
    yield* pool.statusChanges.pipe(
      Stream.runForEach((status) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (status.state !== "open") connectedSince.delete(status.url)
          else if (!connectedSince.has(status.url)) connectedSince.set(status.url, Math.floor(now / 1000))
        })
      ),
      Effect.forkScoped
    )
    const initialNow = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    for (const status of yield* pool.status) if (status.state === "open") connectedSince.set(status.url, initialNow)

    const list = Effect.gen(function* () {
      const statuses = yield* pool.status
      const byUrl = new Map(statuses.map((s) => [s.url, s]))
      const own = yield* effective
      const userRelays = (yield* Ref.get(users)).filter((url) => !own.includes(url))
      const info = (url: string, source: Source): RelayInfo => {
        const status = byUrl.get(url)
        const state =
          status === undefined
            ? "disconnected"
            : status.state === "open"
              ? "connected"
              : status.state === "connecting"
                ? "connecting"
                : "disconnected"
        return {
          url,
          source,
          status: state,
          connectedSince: state === "connected" ? Option.fromNullable(connectedSince.get(url)) : Option.none(),
          lastError: status === undefined ? Option.none() : status.lastError
        }
      }
      return [
        ...own.map((url) => info(url, configSet.has(url) ? "config" : "api")),
        ...userRelays.map((url) => info(url, "user"))
      ]
    })

    return Relays.of({
      effective,
      list,
      add: (url) => Effect.zipRight(store.addRelay(url), refresh),
      remove: (url) =>
        Effect.gen(function* () {
          const own = yield* stored
          if (!own.includes(url)) return false
          yield* store.removeRelay(url)
          yield* refresh
          return true
        }),
      addUserRelays: (urls) =>
        Effect.gen(function* () {
          const own = yield* Effect.orElseSucceed(effective, () => [] as ReadonlyArray<string>)
          const fresh = urls.flatMap((url) => Option.toArray(normalize(url))).filter((url) => !own.includes(url))
          const known = yield* Ref.get(users)
          const toAdd = fresh.filter((url) => !known.includes(url)).slice(0, Math.max(0, maxUserRelays - known.length))
          if (toAdd.length === 0) return
          yield* Ref.update(users, (all) => [...all, ...toAdd])
          yield* Effect.forEach(toAdd, (url) => pool.addRelay(url).pipe(Effect.ignore), { discard: true })
        })
    })
  })

/**
 * The service (it follows the pool's status changes to know since when each relay is connected, and the store's
 * relay set every `syncInterval`).
 * @category layers
 */
export const layer = (
  configured: ReadonlyArray<string>,
  options: Options = {}
): Layer.Layer<Relays, StoreFailure, Store.Store | RelayPool.RelayPool> =>
  Layer.scoped(Relays, make(configured, options))
