/**
 * `RelayPool`: N relays over WebSockets (`@effect/platform` `Socket.makeWebSocket`; on Node 20 provide
 * `NodeSocket.layerWebSocketConstructor`, or use `layerNode`).
 *
 * - Per-relay status (connecting / open / backing-off, attempts, last error), as a snapshot and a stream.
 * - Reconnection with exponential backoff and jitter. On reconnect every live subscription is re-sent; a relay that
 *   had already received it gets `since` = (time the connection was lost − `resubscribeSlack`), so stored events
 *   published during the outage arrive and old ones are not replayed.
 * - `subscribe(filters)` → `Stream` of events, each **verified first** (`Event.Verifier`), re-checked against the
 *   filters locally (relays are not trusted to filter), and de-duplicated by id across relays and reconnects with a
 *   bounded per-subscription cache. Subscription ids follow the reference: `"p0"` + 30 alphanumerics.
 * - At most `maxSubscriptions` relay subscriptions are open per connection (relays cap them: `@nostr-relay/core`
 *   silently evicts the least recently used beyond 20, strfry answers `CLOSED`). Beyond that, subscriptions share a
 *   relay subscription: its `REQ` is re-sent with the union of their filters (filters that differ only in `authors`
 *   are merged into one), members already confirmed get `since` raised to when they were first sent (minus the slack)
 *   so stored events are not replayed, and every event is delivered to each member whose own filters it matches. A
 *   `CLOSED` from a relay is never ignored: the subscription is moved into another relay subscription (and the limit
 *   lowered), or re-sent after a backoff when it is the only one.
 * - `publish(event)` → an outcome per relay: accepted, rejected (with the relay's message), timed out, or queued
 *   for retry when the relay is down (dropped when the bounded retry queue is full). Queued events are re-sent when
 *   the relay comes back, until they expire.
 * - Relays can be added and removed at runtime. Every buffer is bounded: inbound frames, per-relay outboxes,
 *   per-subscription buffers (sliding), dedup caches, the retry queue.
 *
 * Frames from all relays go through one ordered inbound queue, so an `EOSE` never overtakes the events before it.
 *
 * @since 0.1.0
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Socket from "@effect/platform/Socket"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Event from "./Event.js"
import * as Filter from "./Filter.js"
import { BoundedSet } from "./BoundedSet.js"
import { InvalidRelayUrl } from "./NostrError.js"

/**
 * Pool options. Durations accept `Duration.DurationInput` (`"5 seconds"`, millis as a number).
 * @category models
 */
export interface Options {
  /** Initial relays (`ws://` or `wss://`). */
  readonly relays: ReadonlyArray<string>
  /** Time allowed for a WebSocket to open (default 10 s). */
  readonly connectTimeout?: Duration.DurationInput
  /** Time a relay has to answer `OK` to a published event (default 10 s). */
  readonly publishTimeout?: Duration.DurationInput
  /** Backoff between connection attempts: `initial` (default 500 ms) × 2^attempt, capped at `max` (default 60 s). */
  readonly backoff?: {
    readonly initial?: Duration.DurationInput
    readonly max?: Duration.DurationInput
    /** Relative jitter in [0, 1] (default 0.2: ±20 %). */
    readonly jitter?: number
  }
  /** Subtracted from the disconnection time to form the `since` of a resubscription (default 30 s). */
  readonly resubscribeSlack?: Duration.DurationInput
  /** Event ids remembered per subscription for de-duplication (default 10 000). */
  readonly dedupCapacity?: number
  /** Events buffered per subscription before the oldest are dropped (default 4096). */
  readonly subscriptionBuffer?: number
  /** Events kept for relays that are down (default 512, as the reference). */
  readonly retryCapacity?: number
  /** How long a queued event is worth re-sending (default 5 minutes). */
  readonly retryTimeToLive?: Duration.DurationInput
  /** Frames buffered from all relays before new ones are dropped (default 16 384). */
  readonly inboundCapacity?: number
  /** Relay subscriptions per connection; more subscriptions share them (default 16). */
  readonly maxSubscriptions?: number
}

/**
 * A relay's connection state.
 * @category models
 */
export interface RelayStatus {
  readonly url: string
  readonly state: "connecting" | "open" | "backing-off"
  /** Consecutive failed attempts since the last successful open. */
  readonly attempts: number
  /** Why the last connection ended or failed. */
  readonly lastError: Option.Option<string>
  /** When the next attempt starts (epoch millis), while backing off. */
  readonly retryAt: Option.Option<number>
}

/**
 * What one relay did with a published event.
 * @category models
 */
export type Outcome = Data.TaggedEnum<{
  /** `OK true` (including `duplicate:`). */
  Accepted: { readonly relay: string; readonly message: string }
  /** `OK false` with the relay's reason. */
  Rejected: { readonly relay: string; readonly message: string }
  /** No `OK` within the publish timeout. */
  TimedOut: { readonly relay: string }
  /** The relay is down; the event will be re-sent when it reconnects. */
  Queued: { readonly relay: string }
  /** The relay is down and the retry queue is full. */
  Dropped: { readonly relay: string }
}>
/** @category models */
export const Outcome = Data.taggedEnum<Outcome>()

/**
 * Outcomes of one publish, one per targeted relay.
 * @category models
 */
export interface PublishResult {
  readonly eventId: string
  readonly outcomes: ReadonlyArray<Outcome>
}

/**
 * Whether at least one relay accepted the event.
 * @category models
 */
export const isDelivered = (result: PublishResult): boolean => result.outcomes.some(Outcome.$is("Accepted"))

/**
 * A live subscription (see `RelayPool.subscription`).
 * @category models
 */
export interface Subscription {
  /** This subscription's id (`p0…`); it travels on a relay subscription of the same id unless merged into another. */
  readonly id: string
  /** Verified, filter-checked, de-duplicated events. */
  readonly events: Stream.Stream<Event.NostrEvent>
  /** Completes when every relay that was open at subscription time has sent `EOSE` (or closed). */
  readonly eose: Effect.Effect<void>
}

/**
 * The relay pool.
 * @category models
 */
export interface Service {
  /** Connects to another relay (no-op if present). */
  readonly addRelay: (url: string) => Effect.Effect<void, InvalidRelayUrl>
  /** Disconnects and forgets a relay (no-op if absent). */
  readonly removeRelay: (url: string) => Effect.Effect<void, InvalidRelayUrl>
  /** Current status of every relay. */
  readonly status: Effect.Effect<ReadonlyArray<RelayStatus>>
  /** Every status change of every relay (sliding buffer of 256 per consumer). */
  readonly statusChanges: Stream.Stream<RelayStatus>
  /** Waits until each given relay (default: every relay in the pool) is open. Add your own timeout. */
  readonly awaitOpen: (urls?: ReadonlyArray<string>) => Effect.Effect<void, InvalidRelayUrl>
  /** Opens a subscription for the lifetime of the scope; the REQ is sent before this returns. */
  readonly subscription: (filters: ReadonlyArray<Filter.Filter>) => Effect.Effect<Subscription, never, Scope.Scope>
  /** `subscription` as a stream; interrupting the stream closes the subscription. */
  readonly subscribe: (filters: ReadonlyArray<Filter.Filter>) => Stream.Stream<Event.NostrEvent>
  /**
   * Stored events matching `filters`: waits (up to `timeout`, default 5 s) for a relay to be open, then for `EOSE`
   * from every open relay, and returns what arrived, de-duplicated, in arrival order.
   */
  readonly query: (
    filters: ReadonlyArray<Filter.Filter>,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<ReadonlyArray<Event.NostrEvent>>
  /** Publishes to every relay (or to `relays`) and reports per relay. Never fails. */
  readonly publish: (
    event: Event.NostrEvent,
    options?: { readonly relays?: ReadonlyArray<string>; readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<PublishResult>
}

/** @category tags */
export class RelayPool extends Context.Tag("@portal/nostr/RelayPool")<RelayPool, Service>() {}

/**
 * A relay URL in canonical form: `ws`/`wss` only, lower-case scheme and host, no trailing `/` on an empty path.
 * @category urls
 */
export const normalizeUrl = (url: string): Either.Either<string, InvalidRelayUrl> =>
  Either.try({ try: () => new URL(url.trim()), catch: () => new InvalidRelayUrl({ url, detail: "not a URL" }) }).pipe(
    Either.flatMap((parsed) =>
      parsed.protocol === "ws:" || parsed.protocol === "wss:"
        ? Either.right(parsed.toString().replace(/\/$/, parsed.pathname === "/" ? "" : "/"))
        : Either.left(new InvalidRelayUrl({ url, detail: "expected ws:// or wss://" }))
    )
  )

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** A reference-style id: `prefix` + 30 alphanumerics. */
export const randomId = (prefix: string): Effect.Effect<string> =>
  Effect.map(
    Effect.all(Array.from({ length: 30 }, () => Random.nextIntBetween(0, ALPHANUMERIC.length))),
    (indexes) => prefix + indexes.map((i) => ALPHANUMERIC[i]).join("")
  )

interface OkReply {
  readonly accepted: boolean
  readonly message: string
}
const Disconnected = "disconnected" as const

interface RelayEntry {
  readonly url: string
  readonly status: SubscriptionRef.SubscriptionRef<RelayStatus>
  /** Outbox of the current connection, while open. */
  outbox: Queue.Queue<string> | undefined
  /** When the last open connection was lost (epoch millis). */
  lostAt: number | undefined
  readonly pendingOk: Map<string, Deferred.Deferred<OkReply | typeof Disconnected>>
}

interface SubEntry {
  readonly id: string
  readonly filters: ReadonlyArray<Filter.Filter>
  readonly queue: Queue.Queue<Event.NostrEvent>
  readonly seen: BoundedSet<string>
  /** When this subscription's filters first went to each relay (epoch millis). */
  readonly sentAt: Map<string, number>
  /** Relays that answered `EOSE` to a REQ carrying its full filters: it has their stored events. */
  readonly confirmed: Set<string>
  readonly eosePending: Set<string>
  readonly eose: Deferred.Deferred<void>
  /** The relay subscription it travels on. */
  wire: Wire
}

/** A subscription as relays see it: one id, the union of its members' filters. */
interface Wire {
  readonly id: string
  readonly members: Set<SubEntry>
  /** Per relay: the REQs awaiting their `EOSE`, oldest first, each with the members it confirms. */
  readonly awaiting: Map<string, Array<ReadonlyArray<SubEntry>>>
  /** Per relay: consecutive `CLOSED` answers (for the re-send backoff). */
  readonly closedCount: Map<string, number>
}

interface RetryEntry {
  readonly event: Event.NostrEvent
  readonly relays: Set<string>
  readonly expiresAt: number
}

interface Inbound {
  readonly entry: RelayEntry
  readonly text: string
}

const millis = (input: Duration.DurationInput): number => Duration.toMillis(Duration.decode(input))

/**
 * Builds a pool in the current scope; closing the scope closes every connection.
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, InvalidRelayUrl, Scope.Scope | Event.Verifier | Socket.WebSocketConstructor> =>
  Effect.gen(function* () {
    const verifier = yield* Event.Verifier
    const webSocketConstructor = yield* Socket.WebSocketConstructor
    const connectTimeout = millis(options.connectTimeout ?? "10 seconds")
    const publishTimeout = millis(options.publishTimeout ?? "10 seconds")
    const backoffInitial = millis(options.backoff?.initial ?? "500 millis")
    const backoffMax = millis(options.backoff?.max ?? "60 seconds")
    const jitter = Math.min(Math.max(options.backoff?.jitter ?? 0.2, 0), 1)
    const slackSeconds = Math.ceil(millis(options.resubscribeSlack ?? "30 seconds") / 1000)
    const dedupCapacity = options.dedupCapacity ?? 10_000
    const subscriptionBuffer = options.subscriptionBuffer ?? 4096
    const retryCapacity = options.retryCapacity ?? 512
    const retryTimeToLive = millis(options.retryTimeToLive ?? "5 minutes")
    let maxWires = Math.max(1, options.maxSubscriptions ?? 16)

    const relays = new Map<string, RelayEntry>()
    const subs = new Map<string, SubEntry>()
    const wires = new Map<string, Wire>()
    const retry = new Map<string, RetryEntry>()
    const fibers = yield* FiberMap.make<string>()
    const changes = yield* PubSub.sliding<RelayStatus>(256)
    const inbound = yield* Queue.dropping<Inbound>(options.inboundCapacity ?? 16_384)
    const poolScope = yield* Effect.scope

    const setStatus = (entry: RelayEntry, status: Omit<RelayStatus, "url">) => {
      const full: RelayStatus = { url: entry.url, ...status }
      return Effect.zipRight(SubscriptionRef.set(entry.status, full), PubSub.publish(changes, full))
    }

    const send = (entry: RelayEntry, frame: string): boolean =>
      entry.outbox !== undefined && Queue.unsafeOffer(entry.outbox, frame)

    /**
     * A member's filters as sent to `entry`: unchanged until the relay confirmed them with an `EOSE`; after that with
     * `since` raised to when they were first sent or the connection was lost (minus the slack), so a re-sent or
     * resumed REQ brings what was missed and not what was already delivered.
     */
    const memberFilters = (entry: RelayEntry, sub: SubEntry, now: number): ReadonlyArray<Filter.Filter> => {
      const sentAt = sub.sentAt.get(entry.url)
      if (sentAt === undefined) sub.sentAt.set(entry.url, now)
      if (sentAt === undefined || !sub.confirmed.has(entry.url)) return sub.filters
      const base = Math.max(sentAt, entry.lostAt ?? 0)
      // rounded down to the minute (never later than needed), so that members' filters merge
      const since = Math.max(0, Math.floor((Math.floor(base / 1000) - slackSeconds) / 60) * 60)
      return sub.filters.map((filter) => Filter.withSinceAtLeast(filter, since))
    }

    /** Sends `wire`'s REQ to `entry`; `confirms` are the members whose `EOSE` from this relay it brings. */
    const sendWire = (entry: RelayEntry, wire: Wire, confirms: ReadonlyArray<SubEntry>, now: number): boolean => {
      const filters = mergeFilters([...wire.members].flatMap((sub) => memberFilters(entry, sub, now)))
      if (!send(entry, JSON.stringify(["REQ", wire.id, ...filters]))) return false
      const queue = wire.awaiting.get(entry.url)
      if (queue === undefined) wire.awaiting.set(entry.url, [confirms])
      else queue.push(confirms)
      return true
    }

    const eoseFrom = (sub: SubEntry, url: string) => {
      if (sub.eosePending.delete(url) && sub.eosePending.size === 0) Deferred.unsafeDone(sub.eose, Exit.void)
    }

    /** Moves every member of `from` into `to` and re-sends `to` (and closes `from`) on every open relay. */
    const mergeWire = (from: Wire, to: Wire, now: number) => {
      wires.delete(from.id)
      const moved = [...from.members]
      for (const sub of moved) {
        sub.wire = to
        to.members.add(sub)
      }
      for (const entry of relays.values()) {
        if (entry.outbox === undefined) continue
        send(entry, JSON.stringify(["CLOSE", from.id]))
        sendWire(entry, to, moved, now)
      }
    }

    /** A relay ended one of our subscriptions: never leave its members deaf. */
    const onClosedSubscription = (entry: RelayEntry, wire: Wire, reason: string) =>
      Effect.gen(function* () {
        // what that REQ would have confirmed, it will not: release the waiters, and send full filters next time
        for (const confirms of wire.awaiting.get(entry.url) ?? []) for (const sub of confirms) eoseFrom(sub, entry.url)
        wire.awaiting.delete(entry.url)
        for (const sub of wire.members) sub.confirmed.delete(entry.url)
        const now = yield* Clock.currentTimeMillis
        const others = [...wires.values()].filter((other) => other !== wire)
        yield* Effect.logWarning("relay closed a subscription").pipe(
          Effect.annotateLogs({ relay: entry.url, reason, subscriptions: wires.size })
        )
        if (others.length > 0) {
          // most likely a subscription limit: stay under it from now on
          maxWires = Math.max(1, Math.min(maxWires, wires.size - 1))
          const target = others.reduce((a, b) => (b.members.size < a.members.size ? b : a))
          return mergeWire(wire, target, now)
        }
        const count = (wire.closedCount.get(entry.url) ?? 0) + 1
        wire.closedCount.set(entry.url, count)
        const outbox = entry.outbox
        const delay = Math.min(backoffMax, backoffInitial * 2 ** (count - 1))
        yield* Effect.sleep(Duration.millis(delay)).pipe(
          Effect.zipRight(
            Effect.flatMap(Clock.currentTimeMillis, (at) =>
              Effect.sync(() => {
                if (wires.get(wire.id) === wire && entry.outbox === outbox && outbox !== undefined) {
                  sendWire(entry, wire, [], at)
                }
              })
            )
          ),
          Effect.forkIn(poolScope)
        )
      })

    const enqueueRetry = (url: string, event: Event.NostrEvent, now: number): Outcome => {
      const existing = retry.get(event.id)
      if (existing !== undefined) {
        existing.relays.add(url)
        return Outcome.Queued({ relay: url })
      }
      if (retry.size >= retryCapacity) {
        for (const [id, item] of retry) if (item.expiresAt <= now) retry.delete(id)
      }
      if (retry.size >= retryCapacity) return Outcome.Dropped({ relay: url })
      retry.set(event.id, { event, relays: new Set([url]), expiresAt: now + retryTimeToLive })
      return Outcome.Queued({ relay: url })
    }

    const flushRetry = (entry: RelayEntry, now: number): number => {
      let sent = 0
      for (const [id, item] of retry) {
        if (item.expiresAt <= now) {
          retry.delete(id)
          continue
        }
        if (!item.relays.has(entry.url)) continue
        if (send(entry, JSON.stringify(["EVENT", item.event]))) {
          sent++
          item.relays.delete(entry.url)
          if (item.relays.size === 0) retry.delete(id)
        }
      }
      return sent
    }

    const onOpen = (entry: RelayEntry, outbox: Queue.Queue<string>) =>
      Effect.gen(function* () {
        entry.outbox = outbox
        // subscriptions first, then the retried events, then the status that wakes waiting publishers: a reply to
        // anything published on this connection finds our subscriptions registered (a connection is in order)
        const now = yield* Clock.currentTimeMillis
        for (const wire of wires.values()) sendWire(entry, wire, [...wire.members], now)
        const retried = flushRetry(entry, now)
        yield* setStatus(entry, { state: "open", attempts: 0, lastError: Option.none(), retryAt: Option.none() })
        yield* Effect.logDebug("relay open").pipe(
          Effect.annotateLogs({ relay: entry.url, subscriptions: subs.size, retried })
        )
      })

    const onClosed = (entry: RelayEntry, wasOpen: boolean, now: number) => {
      entry.outbox = undefined
      if (wasOpen) entry.lostAt = now
      for (const deferred of entry.pendingOk.values()) Deferred.unsafeDone(deferred, Exit.succeed(Disconnected))
      entry.pendingOk.clear()
      for (const wire of wires.values()) wire.awaiting.delete(entry.url)
      for (const sub of subs.values()) eoseFrom(sub, entry.url)
    }

    const handleFrame = ({ entry, text }: Inbound): Effect.Effect<void> => {
      let message: unknown
      try {
        message = JSON.parse(text)
      } catch {
        return Effect.logDebug("relay sent a frame that is not JSON").pipe(Effect.annotateLogs({ relay: entry.url }))
      }
      if (!Array.isArray(message)) return Effect.void
      const type: unknown = message[0]
      switch (type) {
        case "EVENT": {
          const wire = typeof message[1] === "string" ? wires.get(message[1]) : undefined
          if (wire === undefined) return Effect.void
          const raw: unknown = message[2]
          const rawId =
            typeof raw === "object" && raw !== null && "id" in raw && typeof raw.id === "string" ? raw.id : undefined
          // the signature is the expensive part: drop first what no member would take (an id every member already
          // has, or, for a well-formed event, one that no member's filters match: relays broadcast more than asked)
          if (rawId !== undefined) {
            const candidate = looksLikeEvent(raw) ? raw : undefined
            let wanted = false
            for (const sub of wire.members) {
              if (!sub.seen.has(rawId) && (candidate === undefined || Filter.matchesAny(sub.filters, candidate))) {
                wanted = true
                break
              }
            }
            if (!wanted) return Effect.void
          }
          const decoded = verifier.decodeEither(raw)
          if (Either.isLeft(decoded)) {
            return Effect.logDebug("dropped an invalid event").pipe(
              Effect.annotateLogs({ relay: entry.url, reason: decoded.left.reason, id: rawId ?? "?" })
            )
          }
          const event = decoded.right
          for (const sub of wire.members) {
            if (Filter.matchesAny(sub.filters, event) && sub.seen.add(event.id)) Queue.unsafeOffer(sub.queue, event)
          }
          return Effect.void
        }
        case "OK": {
          const [, id, accepted, reason] = message
          if (typeof id !== "string" || typeof accepted !== "boolean") return Effect.void
          const deferred = entry.pendingOk.get(id)
          if (deferred !== undefined) {
            entry.pendingOk.delete(id)
            Deferred.unsafeDone(deferred, Exit.succeed({ accepted, message: typeof reason === "string" ? reason : "" }))
          }
          return Effect.void
        }
        case "EOSE": {
          const wire = typeof message[1] === "string" ? wires.get(message[1]) : undefined
          const confirms = wire?.awaiting.get(entry.url)?.shift()
          if (wire !== undefined) wire.closedCount.delete(entry.url)
          for (const sub of confirms ?? []) {
            sub.confirmed.add(entry.url)
            eoseFrom(sub, entry.url)
          }
          return Effect.void
        }
        case "CLOSED": {
          const wire = typeof message[1] === "string" ? wires.get(message[1]) : undefined
          if (wire === undefined) return Effect.void
          return onClosedSubscription(entry, wire, String(message[2] ?? ""))
        }
        case "NOTICE":
          return Effect.logDebug("relay notice").pipe(
            Effect.annotateLogs({ relay: entry.url, notice: String(message[1] ?? "") })
          )
        default:
          return Effect.void
      }
    }

    yield* Queue.takeBetween(inbound, 1, 256).pipe(
      Effect.flatMap((frames) => Effect.forEach(frames, handleFrame, { discard: true })),
      Effect.forever,
      Effect.forkScoped
    )

    const decoder = new TextDecoder()

    const runRelay = (entry: RelayEntry) =>
      Effect.gen(function* () {
        const socket = yield* Socket.makeWebSocket(entry.url, {
          openTimeout: connectTimeout,
          closeCodeIsError: () => true
        }).pipe(Effect.provideService(Socket.WebSocketConstructor, webSocketConstructor))
        let attempts = 0
        while (true) {
          yield* setStatus(entry, {
            state: "connecting",
            attempts,
            lastError: (yield* SubscriptionRef.get(entry.status)).lastError,
            retryAt: Option.none()
          })
          let opened = false
          const exit = yield* Effect.exit(
            Effect.scoped(
              Effect.gen(function* () {
                const write = yield* socket.writer
                const connectionScope = yield* Effect.scope
                const outbox = yield* Queue.dropping<string>(4096)
                const writer = Queue.take(outbox).pipe(Effect.flatMap(write), Effect.forever, Effect.ignore)
                yield* socket.runRaw(
                  (data) => {
                    const text = typeof data === "string" ? data : decoder.decode(data)
                    if (!Queue.unsafeOffer(inbound, { entry, text })) {
                      return Effect.logWarning("inbound buffer full, frame dropped").pipe(
                        Effect.annotateLogs({ relay: entry.url })
                      )
                    }
                  },
                  {
                    onOpen: Effect.gen(function* () {
                      opened = true
                      yield* Effect.forkIn(writer, connectionScope)
                      yield* onOpen(entry, outbox)
                    })
                  }
                )
              })
            )
          )
          const now = yield* Clock.currentTimeMillis
          onClosed(entry, opened, now)
          attempts = opened ? 1 : attempts + 1
          const base = Math.min(backoffMax, backoffInitial * 2 ** (attempts - 1))
          const delay = Math.round(base * (1 - jitter + 2 * jitter * (yield* Random.next)))
          yield* setStatus(entry, {
            state: "backing-off",
            attempts,
            lastError: Option.some(exitReason(exit)),
            retryAt: Option.some(now + delay)
          })
          yield* Effect.logDebug("relay connection ended").pipe(
            Effect.annotateLogs({ relay: entry.url, reason: exitReason(exit), retryInMillis: delay })
          )
          yield* Effect.sleep(Duration.millis(delay))
        }
      })

    const addRelay = (url: string) =>
      Effect.gen(function* () {
        const normalized = yield* normalizeUrl(url)
        if (relays.has(normalized)) return
        const entry: RelayEntry = {
          url: normalized,
          status: yield* SubscriptionRef.make<RelayStatus>({
            url: normalized,
            state: "connecting",
            attempts: 0,
            lastError: Option.none(),
            retryAt: Option.none()
          }),
          outbox: undefined,
          lostAt: undefined,
          pendingOk: new Map()
        }
        relays.set(normalized, entry)
        yield* FiberMap.run(fibers, normalized, runRelay(entry))
      })

    const removeRelay = (url: string) =>
      Effect.gen(function* () {
        const normalized = yield* normalizeUrl(url)
        const entry = relays.get(normalized)
        if (entry === undefined) return
        relays.delete(normalized)
        yield* FiberMap.remove(fibers, normalized)
        onClosed(entry, false, yield* Clock.currentTimeMillis)
        for (const [id, item] of retry) {
          item.relays.delete(normalized)
          if (item.relays.size === 0) retry.delete(id)
        }
      })

    const waitFor = (entry: RelayEntry, predicate: (status: RelayStatus) => boolean) =>
      entry.status.changes.pipe(Stream.filter(predicate), Stream.take(1), Stream.runDrain)

    const awaitOpen = (urls?: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const targets =
          urls === undefined
            ? [...relays.values()]
            : (yield* Effect.forEach(urls, (url) => normalizeUrl(url))).flatMap((url) => {
                const entry = relays.get(url)
                return entry === undefined ? [] : [entry]
              })
        yield* Effect.forEach(targets, (entry) => waitFor(entry, (status) => status.state === "open"), {
          concurrency: "unbounded",
          discard: true
        })
      })

    const register = (filters: ReadonlyArray<Filter.Filter>) =>
      Effect.acquireRelease(
        Effect.gen(function* () {
          const id = yield* randomId("p0")
          const now = yield* Clock.currentTimeMillis
          const wire: Wire =
            wires.size < maxWires
              ? { id, members: new Set(), awaiting: new Map(), closedCount: new Map() }
              : [...wires.values()].reduce((a, b) => (b.members.size < a.members.size ? b : a))
          const sub: SubEntry = {
            id,
            filters,
            queue: yield* Queue.sliding<Event.NostrEvent>(subscriptionBuffer),
            seen: new BoundedSet(dedupCapacity),
            sentAt: new Map(),
            confirmed: new Set(),
            eosePending: new Set(),
            eose: yield* Deferred.make<void>(),
            wire
          }
          subs.set(sub.id, sub)
          wires.set(wire.id, wire)
          wire.members.add(sub)
          for (const entry of relays.values()) {
            if (entry.outbox === undefined) continue
            // pending before sending: the member's filters go in full until this relay confirms them
            sub.eosePending.add(entry.url)
            if (!sendWire(entry, wire, [sub], now)) sub.eosePending.delete(entry.url)
          }
          if (sub.eosePending.size === 0) yield* Deferred.succeed(sub.eose, undefined)
          return sub
        }),
        (sub) =>
          Effect.gen(function* () {
            subs.delete(sub.id)
            const wire = sub.wire
            wire.members.delete(sub)
            // a shared relay subscription keeps the leaver's filters until its next REQ: extra events are dropped
            // by the members' own filters
            if (wire.members.size === 0 && wires.get(wire.id) === wire) {
              wires.delete(wire.id)
              for (const entry of relays.values()) send(entry, JSON.stringify(["CLOSE", wire.id]))
            }
            yield* Queue.shutdown(sub.queue)
          })
      )

    const subscription = (filters: ReadonlyArray<Filter.Filter>) =>
      Effect.map(register(filters), (sub): Subscription => ({
        id: sub.id,
        events: Stream.fromQueue(sub.queue),
        eose: Deferred.await(sub.eose)
      }))

    const query = (
      filters: ReadonlyArray<Filter.Filter>,
      queryOptions?: { readonly timeout?: Duration.DurationInput }
    ) =>
      Effect.scoped(
        Effect.gen(function* () {
          const timeout = Duration.decode(queryOptions?.timeout ?? "5 seconds")
          const entries = [...relays.values()]
          if (entries.length > 0 && entries.every((entry) => entry.outbox === undefined)) {
            yield* Effect.raceAll(entries.map((entry) => waitFor(entry, (status) => status.state === "open"))).pipe(
              Effect.timeout(timeout),
              Effect.ignore
            )
          }
          const sub = yield* register(filters)
          yield* Deferred.await(sub.eose).pipe(Effect.timeout(timeout), Effect.ignore)
          // let frames already received for this subscription be processed
          yield* Effect.yieldNow()
          return [...(yield* Queue.takeAll(sub.queue))]
        })
      )

    const publishTo = (entry: RelayEntry, event: Event.NostrEvent, frame: string, timeout: number) =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        const current = yield* SubscriptionRef.get(entry.status)
        if (current.state === "connecting") {
          yield* waitFor(entry, (status) => status.state !== "connecting").pipe(
            Effect.timeout(Duration.millis(timeout)),
            Effect.ignore
          )
        }
        if (entry.outbox === undefined) return enqueueRetry(entry.url, event, yield* Clock.currentTimeMillis)
        const deferred = yield* Deferred.make<OkReply | typeof Disconnected>()
        entry.pendingOk.set(event.id, deferred)
        if (!send(entry, frame)) {
          entry.pendingOk.delete(event.id)
          return enqueueRetry(entry.url, event, yield* Clock.currentTimeMillis)
        }
        const remaining = Math.max(0, timeout - ((yield* Clock.currentTimeMillis) - start))
        const reply = yield* Deferred.await(deferred).pipe(Effect.timeout(Duration.millis(remaining)), Effect.option)
        if (entry.pendingOk.get(event.id) === deferred) entry.pendingOk.delete(event.id)
        if (Option.isNone(reply)) return Outcome.TimedOut({ relay: entry.url })
        if (reply.value === Disconnected) return enqueueRetry(entry.url, event, yield* Clock.currentTimeMillis)
        return reply.value.accepted
          ? Outcome.Accepted({ relay: entry.url, message: reply.value.message })
          : Outcome.Rejected({ relay: entry.url, message: reply.value.message })
      })

    const publish = (
      event: Event.NostrEvent,
      publishOptions?: { readonly relays?: ReadonlyArray<string>; readonly timeout?: Duration.DurationInput }
    ) =>
      Effect.gen(function* () {
        const wanted =
          publishOptions?.relays === undefined
            ? undefined
            : new Set(
                publishOptions.relays.flatMap((url) =>
                  Either.getOrElse(
                    Either.map(normalizeUrl(url), (u) => [u]),
                    () => []
                  )
                )
              )
        const targets = [...relays.values()].filter((entry) => wanted === undefined || wanted.has(entry.url))
        const frame = JSON.stringify(["EVENT", event])
        const timeout = publishOptions?.timeout === undefined ? publishTimeout : millis(publishOptions.timeout)
        const outcomes = yield* Effect.forEach(targets, (entry) => publishTo(entry, event, frame, timeout), {
          concurrency: "unbounded"
        })
        return { eventId: event.id, outcomes }
      })

    for (const url of options.relays) yield* addRelay(url)

    return RelayPool.of({
      addRelay,
      removeRelay,
      status: Effect.suspend(() => Effect.forEach([...relays.values()], (entry) => SubscriptionRef.get(entry.status))),
      statusChanges: Stream.fromPubSub(changes),
      awaitOpen,
      subscription,
      subscribe: (filters) => Stream.unwrapScoped(Effect.map(subscription(filters), (sub) => sub.events)),
      query,
      publish
    })
  })

/** The fields filters read have the right types (so matching cannot throw); not a validation. */
const looksLikeEvent = (raw: unknown): raw is Event.NostrEvent => {
  if (typeof raw !== "object" || raw === null) return false
  const event = raw as Record<string, unknown>
  return (
    typeof event["id"] === "string" &&
    typeof event["pubkey"] === "string" &&
    typeof event["kind"] === "number" &&
    typeof event["created_at"] === "number" &&
    Array.isArray(event["tags"]) &&
    event["tags"].every((tag) => Array.isArray(tag))
  )
}

/**
 * Filters that differ only in `authors` become one filter with the union of the authors (a shared relay subscription
 * of many conversations then costs the relay one filter per shape, not one per conversation); the rest is unchanged.
 */
const mergeFilters = (filters: ReadonlyArray<Filter.Filter>): ReadonlyArray<Filter.Filter> => {
  const merged = new Map<string, { filter: Filter.Filter; authors: Set<string> }>()
  const out: Array<Filter.Filter | string> = []
  for (const filter of filters) {
    if (filter.authors === undefined || filter.limit !== undefined) {
      out.push(filter)
      continue
    }
    const { authors, ...rest } = filter
    const key = JSON.stringify(
      Arr.sort(
        Object.entries(rest),
        Order.mapInput(Order.string, ([name]: [string, unknown]) => name)
      )
    )
    const existing = merged.get(key)
    if (existing === undefined) {
      merged.set(key, { filter: rest, authors: new Set(authors) })
      out.push(key)
    } else for (const author of authors) existing.authors.add(author)
  }
  return out.map((item) => {
    if (typeof item !== "string") return item
    const { authors, filter } = merged.get(item)!
    return { ...filter, authors: [...authors] }
  })
}

const exitReason = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "closed"
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause))
  if (Socket.isSocketError(failure)) {
    return failure.reason === "Close"
      ? `closed with code ${failure.code}`
      : `socket ${failure.reason.toLowerCase()} error`
  }
  return "connection failed"
}

/**
 * A pool for the lifetime of the layer. Needs an `Event.Verifier` and a `Socket.WebSocketConstructor`.
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<RelayPool, InvalidRelayUrl, Event.Verifier | Socket.WebSocketConstructor> =>
  Layer.scoped(RelayPool, make(options))

/**
 * `layer` with the wasm verifier and Node's `ws` WebSocket constructor.
 * @category layers
 */
export const layerNode = (options: Options): Layer.Layer<RelayPool, InvalidRelayUrl> =>
  layer(options).pipe(Layer.provide([Event.layerVerifier, NodeSocket.layerWebSocketConstructor]))
