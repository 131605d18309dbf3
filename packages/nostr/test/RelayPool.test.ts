import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, it } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { type WebSocket, WebSocketServer } from "ws"

const Deps = Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)

const makePool = (relays: ReadonlyArray<string>, options: Partial<RelayPool.Options> = {}) =>
  RelayPool.make({
    relays,
    backoff: { initial: "40 millis", max: "200 millis" },
    publishTimeout: "3 seconds",
    ...options
  }).pipe(Effect.provide(Deps))

const open = (pool: RelayPool.Service, urls?: ReadonlyArray<string>) =>
  pool.awaitOpen(urls).pipe(Effect.timeout("5 seconds"))

const sign = (keys: Keys.KeyPair, kind: number, content: string, tags: ReadonlyArray<ReadonlyArray<string>> = []) =>
  Effect.flatMap(Event.template({ kind, content, tags }), (template) => Event.signWith(keys, template))

/** Everything a stream yields within `window`. */
const collectFor = <A>(stream: Stream.Stream<A>, window: Duration.DurationInput) =>
  stream.pipe(Stream.interruptAfter(window), Stream.runCollect, Effect.map(Chunk.toReadonlyArray))

/** Polls `what` until it gives a value (a condition on a hand-made relay's log). */
const waitFor = <A>(what: () => A | undefined) =>
  Effect.suspend(() => {
    const found = what()
    return found === undefined ? Effect.fail("not yet" as const) : Effect.succeed(found)
  }).pipe(Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 500 }), Effect.orDie)

// Every test starts its own relays and pool, so they run concurrently (most of their time is waiting on sockets).
/**
 * A real WebSocket server on loopback whose every connection is handed to `onConnection` (a relay scripted by the
 * test); its `ws://` URL. Closed, with its clients, with the scope.
 */
const scriptedRelay = (onConnection: (socket: WebSocket) => void) =>
  Effect.acquireRelease(
    Effect.async<WebSocketServer>((resume) => {
      const server: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () =>
        resume(Effect.succeed(server))
      )
      server.on("connection", onConnection)
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.clients.forEach((client) => client.terminate())
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map((server) => {
      const address = server.address()
      return `ws://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
    })
  )

describe.concurrent("RelayPool on a real relay", () => {
  it.scopedLive("publish → subscribe round trip, with an accepted outcome", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* makePool([relay.url])
      yield* open(pool)
      const keys = yield* Keys.generate
      const sub = yield* pool.subscription([{ kinds: [1], authors: [keys.publicKey] }])
      assert.match(sub.id, /^p0[A-Za-z0-9]{30}$/)
      yield* sub.eose.pipe(Effect.timeout("3 seconds"))
      const event = yield* sign(keys, 1, "round trip")
      const result = yield* pool.publish(event)
      assert.deepStrictEqual(result.outcomes, [RelayPool.Outcome.Accepted({ relay: relay.url, message: "" })])
      assert.isTrue(RelayPool.isDelivered(result))
      const received = yield* Stream.runHead(sub.events).pipe(Effect.timeout("3 seconds"))
      assert.deepStrictEqual(Option.getOrThrow(received), event)
      // a stored query sees it too
      const stored = yield* pool.query([{ ids: [event.id] }], { timeout: "3 seconds" })
      assert.deepStrictEqual(stored, [event])
    })
  )

  it.scopedLive("two relays, one killed and restarted mid-subscription: every event exactly once", () =>
    Effect.gen(function* () {
      const a = yield* TestRelay.make
      const b = yield* TestRelay.make
      const subscriber = yield* makePool([a.url, b.url])
      const publisher = yield* makePool([a.url, b.url])
      yield* open(subscriber)
      yield* open(publisher)
      const keys = yield* Keys.generate
      const sub = yield* subscriber.subscription([{ kinds: [1], authors: [keys.publicKey] }])
      yield* sub.eose.pipe(Effect.timeout("3 seconds"))
      const collected = yield* Effect.fork(collectFor(sub.events, "2500 millis"))

      const e1 = yield* sign(keys, 1, "before")
      assert.lengthOf((yield* publisher.publish(e1)).outcomes.filter(RelayPool.Outcome.$is("Accepted")), 2)

      yield* a.stop
      const e2 = yield* sign(keys, 1, "during the outage")
      const during = yield* publisher.publish(e2)
      const byRelay = new Map(during.outcomes.map((outcome) => [outcome.relay, outcome]))
      assert.deepStrictEqual(byRelay.get(a.url), RelayPool.Outcome.Queued({ relay: a.url }))
      assert.deepStrictEqual(byRelay.get(b.url), RelayPool.Outcome.Accepted({ relay: b.url, message: "" }))

      yield* a.start
      yield* open(subscriber, [a.url])
      yield* open(publisher, [a.url])
      const e3 = yield* sign(keys, 1, "after")
      assert.lengthOf((yield* publisher.publish(e3)).outcomes.filter(RelayPool.Outcome.$is("Accepted")), 2)

      const events = yield* Effect.fromFiber(collected)
      assert.deepStrictEqual(
        events.map((e) => e.content),
        ["before", "during the outage", "after"]
      )
      // the queued event reached relay A once it was back
      const storedOnA = (yield* a.storedEvents).map((e) => e.id)
      assert.include(storedOnA, e2.id)
    })
  )

  it.scopedLive("drops forged signatures and events for another p; keeps the rest", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* makePool([relay.url])
      const publisher = yield* makePool([relay.url])
      yield* open(pool)
      yield* open(publisher)
      const me = yield* Keys.generate
      const someoneElse = yield* Keys.generate
      const author = yield* Keys.generate
      const sub = yield* pool.subscription([{ kinds: [4242], "#p": [me.publicKey] }])
      yield* sub.eose.pipe(Effect.timeout("3 seconds"))
      const collected = yield* Effect.fork(collectFor(sub.events, "1500 millis"))

      // forged: our content under the author's key with a signature that is not theirs
      const genuine = yield* sign(author, 4242, "genuine", [["p", me.publicKey]])
      const tampered = { ...genuine, content: "tampered" }
      const forged = { ...tampered, id: Event.computeId(tampered) }
      assert.isAtLeast(yield* relay.inject(forged), 1)
      assert.isAtLeast(yield* relay.inject({ ...genuine, sig: "00".repeat(64) }), 1)
      assert.isAtLeast(yield* relay.inject({ not: "an event" }), 1)
      // addressed to someone else: published for real (this relay does not filter live events by tag) and injected
      const forOther = yield* sign(author, 4242, "for someone else", [["p", someoneElse.publicKey]])
      yield* publisher.publish(forOther)
      yield* relay.inject(forOther)
      // then the genuine one, twice
      yield* publisher.publish(genuine)
      yield* relay.inject(genuine)

      const events = yield* Effect.fromFiber(collected)
      assert.deepStrictEqual(
        events.map((e) => e.content),
        ["genuine"]
      )
    })
  )

  it.scopedLive(
    "resubscribes with since − slack: catches what was stored during the outage, replays nothing older",
    () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.make
        // a dedup cache of two events: without `since`, the old event would be evicted and come back after reconnecting
        const pool = yield* makePool([relay.url], { dedupCapacity: 2, resubscribeSlack: "2 seconds" })
        yield* open(pool)
        const keys = yield* Keys.generate
        const now = Math.floor(Date.now() / 1000)
        const old = yield* Event.signWith(keys, { kind: 1, tags: [], content: "old", created_at: now - 3600 })
        yield* relay.store(old)
        const sub = yield* pool.subscription([{ kinds: [1], authors: [keys.publicKey] }])
        const collected = yield* Effect.fork(collectFor(sub.events, "2 seconds"))
        yield* sub.eose.pipe(Effect.timeout("3 seconds"))
        const recent = yield* sign(keys, 1, "recent")
        yield* pool.publish(recent)
        yield* Effect.sleep("100 millis")

        yield* relay.dropConnections
        const missed = yield* sign(keys, 1, "stored while we were away")
        yield* relay.store(missed)
        yield* open(pool)

        const events = yield* Effect.fromFiber(collected)
        assert.deepStrictEqual(
          events.map((e) => e.content),
          ["old", "recent", "stored while we were away"]
        )
      })
  )

  it.scopedLive("reports a relay's rejection with its message", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* makePool([relay.url])
      yield* open(pool)
      const keys = yield* Keys.generate
      const event = yield* sign(keys, 1, "x")
      const other = yield* sign(keys, 1, "y")
      const result = yield* pool.publish({ ...event, sig: other.sig })
      const [outcome] = result.outcomes
      assert.isTrue(outcome !== undefined && RelayPool.Outcome.$is("Rejected")(outcome))
      if (outcome !== undefined && RelayPool.Outcome.$is("Rejected")(outcome)) assert.isNotEmpty(outcome.message)
      assert.isFalse(RelayPool.isDelivered(result))
    })
  )

  it.scopedLive("bounded retry queue: queued while down, dropped when full, statuses back off", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* makePool([relay.url], { retryCapacity: 1 })
      yield* open(pool)
      yield* relay.stop
      yield* pool.statusChanges.pipe(
        Stream.filter((s) => s.state === "backing-off"),
        Stream.runHead,
        Effect.timeout("3 seconds")
      )
      const [status] = yield* pool.status
      assert.strictEqual(status?.state === "open", false)
      assert.isTrue(Option.isSome(status!.lastError))
      const keys = yield* Keys.generate
      const first = yield* pool.publish(yield* sign(keys, 1, "first"))
      const second = yield* pool.publish(yield* sign(keys, 1, "second"))
      assert.deepStrictEqual(first.outcomes, [RelayPool.Outcome.Queued({ relay: relay.url })])
      assert.deepStrictEqual(second.outcomes, [RelayPool.Outcome.Dropped({ relay: relay.url })])
    })
  )

  it.scopedLive("adds and removes relays at runtime", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* makePool([])
      assert.deepStrictEqual(yield* pool.status, [])
      yield* pool.addRelay(`${relay.url}/`)
      yield* open(pool)
      const statuses = yield* pool.status
      assert.deepStrictEqual(
        statuses.map((s) => [s.url, s.state]),
        [[relay.url, "open"]]
      )
      assert.strictEqual(yield* relay.connections, 1)
      yield* pool.removeRelay(relay.url)
      assert.deepStrictEqual(yield* pool.status, [])
      const keys = yield* Keys.generate
      assert.deepStrictEqual((yield* pool.publish(yield* sign(keys, 1, "nowhere"))).outcomes, [])
      const error = yield* Effect.flip(pool.addRelay("https://not-a-relay.example"))
      assert.strictEqual(error.detail, "expected ws:// or wss://")
    })
  )

  it.scopedLive("a relay that never answers OK gives a timed-out outcome while the others accept", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      // a real WebSocket server on loopback that accepts connections and ignores every frame
      const silentUrl = yield* scriptedRelay(() => {})
      const pool = yield* makePool([relay.url, silentUrl])
      yield* open(pool, [relay.url, silentUrl])
      const keys = yield* Keys.generate
      const result = yield* pool.publish(yield* sign(keys, 1, "anyone there?"), { timeout: "400 millis" })
      const byRelay = new Map(result.outcomes.map((outcome) => [outcome.relay, outcome._tag]))
      assert.strictEqual(byRelay.get(relay.url), "Accepted")
      assert.strictEqual(byRelay.get(silentUrl), "TimedOut")
      assert.isTrue(RelayPool.isDelivered(result))
    })
  )

  it.scopedLive(
    "100 subscriptions on one connection to a relay that keeps 20 per client: every one gets its event",
    () =>
      Effect.gen(function* () {
        // @nostr-relay/core silently forgets the least recently used subscription beyond 20 per connection
        const relay = yield* TestRelay.make
        const pool = yield* makePool([relay.url])
        const publisher = yield* makePool([relay.url])
        yield* open(pool)
        yield* open(publisher)
        const authors = yield* Effect.forEach(Array.from({ length: 100 }), () => Keys.generate)
        const subs = yield* Effect.forEach(authors, (keys) =>
          pool.subscription([{ kinds: [1], authors: [keys.publicKey] }])
        )
        yield* Effect.forEach(subs, (sub) => sub.eose, { discard: true }).pipe(Effect.timeout("10 seconds"))
        const firsts = yield* Effect.forEach(subs, (sub) => Effect.fork(Stream.runHead(sub.events)))
        const events = yield* Effect.forEach(authors, (keys, i) => sign(keys, 1, `to subscriber ${i}`))
        yield* Effect.forEach(events, (event) => publisher.publish(event), { concurrency: 10, discard: true })
        const received = yield* Effect.forEach(firsts, (fiber) => Effect.fromFiber(fiber)).pipe(
          Effect.timeout("10 seconds")
        )
        assert.deepStrictEqual(
          received.map((event) => Option.getOrThrow(event).content),
          events.map((event) => event.content)
        )
        assert.strictEqual(yield* relay.connections, 2)
      })
  )

  it.scopedLive("a relay's CLOSED is not the end: the subscription moves or is re-sent, and its events arrive", () =>
    Effect.gen(function* () {
      // a relay that refuses the first REQ it sees for each id with CLOSED, then serves (EOSE, and events on demand)
      const requests: Array<{ readonly id: string; readonly filters: Array<unknown> }> = []
      const closes: Array<string> = []
      const refused = new Set<string>()
      const sockets = new Set<WebSocket>()
      const url = yield* scriptedRelay((socket) => {
        sockets.add(socket)
        socket.on("message", (data) => {
          const [type, id, ...filters] = JSON.parse(String(data)) as [string, string, ...Array<unknown>]
          if (type === "CLOSE") closes.push(id)
          if (type !== "REQ") return
          requests.push({ id, filters })
          if (!refused.has(id)) {
            refused.add(id)
            socket.send(JSON.stringify(["CLOSED", id, "error: too many subscriptions"]))
          } else socket.send(JSON.stringify(["EOSE", id]))
        })
      })
      const pool = yield* makePool([url])
      yield* open(pool)
      const alice = yield* Keys.generate
      const bob = yield* Keys.generate
      const broadcast = (id: string, event: Event.NostrEvent) =>
        Effect.sync(() => sockets.forEach((socket) => socket.send(JSON.stringify(["EVENT", id, event]))))

      // alone: re-sent after a backoff under the same id
      const first = yield* pool.subscription([{ kinds: [1], authors: [alice.publicKey] }])
      yield* first.eose.pipe(Effect.timeout("3 seconds"))
      const resent = yield* waitFor(() => requests.filter((r) => r.id === first.id)[1])
      assert.deepStrictEqual(resent.filters, [{ kinds: [1], authors: [alice.publicKey] }])
      const fromAlice = yield* sign(alice, 1, "for the first")
      yield* broadcast(first.id, fromAlice)
      assert.deepStrictEqual(
        Option.getOrThrow(yield* Stream.runHead(first.events).pipe(Effect.timeout("3 seconds"))),
        fromAlice
      )

      // with another subscription open: moved into it (one REQ with both filters), its own id closed
      const second = yield* pool.subscription([{ kinds: [1], authors: [bob.publicKey] }])
      yield* second.eose.pipe(Effect.timeout("3 seconds"))
      const merged = yield* waitFor(() =>
        requests.find((r) => r.id === first.id && JSON.stringify(r.filters).includes(bob.publicKey))
      )
      assert.deepStrictEqual(
        merged.filters
          .map((f) => (f as { authors: Array<string> }).authors)
          .flat()
          .toString(),
        [alice.publicKey, bob.publicKey].toString()
      )
      yield* waitFor(() => (closes.includes(second.id) ? true : undefined))
      const fromBob = yield* sign(bob, 1, "for the second")
      yield* broadcast(first.id, fromBob)
      assert.deepStrictEqual(
        Option.getOrThrow(yield* Stream.runHead(second.events).pipe(Effect.timeout("3 seconds"))),
        fromBob
      )
    })
  )
})
