/**
 * An in-memory `RelayPool` for other packages' tests (deep import `@portal/nostr/TestRelayPool`; not in the index).
 *
 * One virtual relay, `memory://test`, always open. `publish` verifies the event (pure-JS), answers `Accepted` (or
 * `Rejected` with `invalid: …` for a bad signature), stores non-ephemeral events (newest 10 000) and delivers it to
 * every matching subscription at once. Subscriptions replay stored matches, then stream live ones, de-duplicated.
 * Several services sharing one `layer` talk to each other as if through a relay; use the real relay
 * (`@portal/testing/TestRelay`) to test networking itself.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as Event from "./Event.js"
import * as Filter from "./Filter.js"
import { BoundedSet } from "./BoundedSet.js"
import * as RelayPool from "./RelayPool.js"

/** The URL of the virtual relay. */
export const url = "memory://test"

interface Subscriber {
  readonly filters: ReadonlyArray<Filter.Filter>
  readonly queue: Queue.Queue<Event.NostrEvent>
  readonly seen: BoundedSet<string>
}

const isEphemeral = (kind: number) => kind >= 20000 && kind < 30000

/**
 * Builds the fake pool.
 * @category constructors
 */
export const make: Effect.Effect<RelayPool.Service> = Effect.sync(() => {
  const stored: Array<Event.NostrEvent> = []
  const subscribers = new Set<Subscriber>()
  const deliver = (subscriber: Subscriber, event: Event.NostrEvent) => {
    if (Filter.matchesAny(subscriber.filters, event) && subscriber.seen.add(event.id)) {
      Queue.unsafeOffer(subscriber.queue, event)
    }
  }
  const register = (filters: ReadonlyArray<Filter.Filter>) =>
    Effect.acquireRelease(
      Effect.gen(function* () {
        const subscriber: Subscriber = {
          filters,
          queue: yield* Queue.sliding<Event.NostrEvent>(4096),
          seen: new BoundedSet(10_000)
        }
        for (const event of stored) deliver(subscriber, event)
        subscribers.add(subscriber)
        return subscriber
      }),
      (subscriber) =>
        Effect.zipRight(
          Effect.sync(() => subscribers.delete(subscriber)),
          Queue.shutdown(subscriber.queue)
        )
    )
  const subscription = (filters: ReadonlyArray<Filter.Filter>) =>
    Effect.gen(function* () {
      const subscriber = yield* register(filters)
      const eose = yield* Deferred.make<void>()
      yield* Deferred.succeed(eose, undefined)
      return {
        id: yield* RelayPool.randomId("p0"),
        events: Stream.fromQueue(subscriber.queue),
        eose: Deferred.await(eose)
      } satisfies RelayPool.Subscription
    })
  return RelayPool.RelayPool.of({
    addRelay: () => Effect.void,
    removeRelay: () => Effect.void,
    status: Effect.succeed([{ url, state: "open", attempts: 0, lastError: Option.none(), retryAt: Option.none() }]),
    statusChanges: Stream.never,
    awaitOpen: () => Effect.void,
    subscription,
    subscribe: (filters) => Stream.unwrapScoped(Effect.map(subscription(filters), (sub) => sub.events)),
    query: (filters) => Effect.succeed(stored.filter((event) => Filter.matchesAny(filters, event))),
    publish: (event) =>
      Effect.sync(() => {
        if (!Event.verifyPure(event)) {
          return {
            eventId: event.id,
            outcomes: [RelayPool.Outcome.Rejected({ relay: url, message: "invalid: bad id or signature" })]
          }
        }
        if (!isEphemeral(event.kind) && !stored.some((e) => e.id === event.id)) {
          stored.push(event)
          if (stored.length > 10_000) stored.shift()
        }
        for (const subscriber of subscribers) deliver(subscriber, event)
        return { eventId: event.id, outcomes: [RelayPool.Outcome.Accepted({ relay: url, message: "" })] }
      })
  })
})

/**
 * A fresh in-memory pool for the lifetime of the layer (build one per test: it is stateful).
 * @category layers
 */
export const layer: Layer.Layer<RelayPool.RelayPool> = Layer.effect(RelayPool.RelayPool, make)
