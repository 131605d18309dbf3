/**
 * Several daemon instances on one PostgreSQL database and one loopback relay (differences.md §o): each in-flight
 * operation is owned by one instance through a lease (short here: 1.5 s, renewed every 300 ms), a crashed owner's
 * operations are taken over when the lease expires, a stopped one's as soon as it released them, and any instance
 * serves polling, handshakes and closes. Each instance is the real HTTP application over its own PostgreSQL pool;
 * a crash is simulated by closing an instance's store before its services, so nothing is released or written after
 * it. Skipped without PostgreSQL binaries (`PgCluster`).
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Conversing from "@portal/server/Conversing"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import { PgCluster } from "@portal/testing"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Auth from "@portal/user/Auth"
import * as Recurring from "@portal/user/Recurring"
import type * as User from "@portal/user/User"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { authed, jsonRequest, layer as serverLayer, nip05Host, sendJson } from "./HttpServerTest.js"
import { awaitBalance, startDaemon, startNetwork, startUser as startUserWith, subscribe } from "./PaymentsHarness.js"

/** A user on its own pool, answering only when told to. */
const startUser = (relay: string) => startUserWith(relay, undefined, {})

interface WireEvent {
  readonly index: number
  readonly type: string
  readonly [field: string]: unknown
}

const runnable = PgCluster.binariesAvailable()
const lease = "1500 millis"
const renew = "300 millis"

interface Instance {
  readonly owner: string
  readonly store: Store.Service
  readonly http: <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) => Effect.Effect<A, E>
  /** Graceful shutdown: conversations stopped, then leases released. */
  readonly stop: Effect.Effect<void>
  /** A crash: the database goes first, so nothing is released or written after it. */
  readonly crash: Effect.Effect<void>
}

interface PairOptions {
  readonly authTimeout?: Duration.DurationInput
  readonly handshakeTimeout?: Duration.DurationInput
  /** Default 1.5 s. */
  readonly lease?: Duration.DurationInput
}

/** One daemon instance on `databaseUrl`, with the daemon key `keys`. */
const startInstance = (
  options: {
    readonly relay: string
    readonly databaseUrl: string
    readonly keys: Keys.KeyPair
  } & PairOptions
) =>
  Effect.gen(function* () {
    const outer = yield* Effect.scope
    const storeScope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
    const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
    const storeContext = yield* Layer.buildWithScope(
      Store.layerPg({ url: Redacted.make(options.databaseUrl), retention: false }).pipe(Layer.orDie),
      storeScope
    )
    const servicesContext = yield* Layer.buildWithScope(
      Services.layer({
        keys: options.keys,
        relays: [options.relay],
        pool: { backoff: { initial: "40 millis" } },
        subscribeWait: "1 second",
        httpClient: nip05Host,
        authTimeout: options.authTimeout ?? "20 seconds",
        handshakeTimeout: options.handshakeTimeout ?? "20 seconds",
        leases: { lease: options.lease ?? lease, renew }
      }).pipe(Layer.provideMerge(Layer.succeedContext(storeContext)), Layer.orDie),
      scope
    )
    const context = yield* Layer.buildWithScope(serverLayer({}, {}, {}, Layer.succeedContext(servicesContext)), scope)
    yield* Context.get(servicesContext, RelayPool.RelayPool).awaitOpen().pipe(Effect.timeout("5 seconds"), Effect.orDie)
    const instance: Instance = {
      owner: Context.get(servicesContext, Conversing.Ownership).owner,
      store: Context.get(storeContext, Store.Store),
      http: (effect) => Effect.provide(effect, context),
      stop: Scope.close(scope, Exit.void).pipe(Effect.zipRight(Scope.close(storeScope, Exit.void))),
      crash: Scope.close(storeScope, Exit.void).pipe(Effect.zipRight(Scope.close(scope, Exit.void)))
    }
    return instance
  })

/** Two instances on a fresh database, the same daemon key. */
const startPair = (options: PairOptions = {}) =>
  Effect.gen(function* () {
    const relay = yield* TestRelay.TestRelay
    const cluster = yield* PgCluster.PgCluster
    const databaseUrl = yield* cluster.createDatabase()
    const keys = yield* Keys.generate
    const a = yield* startInstance({ relay: relay.url, databaseUrl, keys, ...options })
    const b = yield* startInstance({ relay: relay.url, databaseUrl, keys, ...options })
    assert.notStrictEqual(a.owner, b.owner)
    // both instances' 27010 listeners go out once their pools are open
    yield* Effect.sleep("200 millis")
    return { relay, a, b }
  })

const post = (path: string, body: unknown) => sendJson(jsonRequest("POST", path, body).pipe(authed))

const started = (path: string, body: unknown) =>
  Effect.map(post(path, body), (r) => {
    assert.strictEqual(r.status, 201, r.text)
    return (r.json as { data: { stream_id: string; url?: string } }).data
  })

const poll = (streamId: string) =>
  Effect.map(sendJson(HttpClientRequest.get(`/events/${streamId}`).pipe(authed)), (r) => {
    assert.strictEqual(r.status, 200, r.text)
    return (r.json as { data: { events: ReadonlyArray<WireEvent> } }).data.events
  })

/** Polls until `done` holds (`within` at most). */
const awaitEvents = (
  streamId: string,
  done: (events: ReadonlyArray<WireEvent>) => boolean,
  within: Duration.DurationInput = "10 seconds"
) =>
  poll(streamId).pipe(
    Effect.filterOrFail(done, () => new Error(`${streamId}: not yet`)),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`${streamId}: condition not reached`) }),
    Effect.orDie
  )

/** Waits until `instance` holds the lease of operation (kind, id); returns how long it took. */
const awaitOwner = (store: Store.Service, kind: string, id: string, owner: string) =>
  Effect.gen(function* () {
    const from = yield* Clock.currentTimeMillis
    yield* store.getOperation(kind, id).pipe(
      Effect.filterOrFail(
        (operation) => Option.exists(operation, (op) => Option.contains(op.owner, owner)),
        () => new Error(`${kind} ${id}: not owned by ${owner} yet`)
      ),
      Effect.retry(Schedule.spaced("20 millis")),
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${kind} ${id}: never taken over`) }),
      Effect.orDie
    )
    return (yield* Clock.currentTimeMillis) - from
  })

/**
 * The user approves `challenge`, and the approval is delivered again every 200 ms until `until` holds: replies are
 * ephemeral, and the instance that took the challenge over may still be subscribing when the first copy passes.
 */
const approveUntil = <A, E>(
  relay: TestRelay.Service,
  user: User.Service,
  challenge: Auth.AuthChallenge,
  until: Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    yield* user.respond(challenge, Auth.approve())
    const sent = (yield* relay.received).find(
      (event) =>
        typeof event === "object" &&
        event !== null &&
        Reflect.get(event, "kind") === 27001 &&
        Reflect.get(event, "pubkey") === user.publicKey
    )
    assert.isDefined(sent)
    const again = relay.inject(sent).pipe(Effect.zipRight(Effect.sleep("200 millis")), Effect.forever)
    return yield* Effect.raceFirst(until, again)
  })

/** A user, and a challenge to them created on `a` that they have received. */
const challengeOn = (a: Instance, relay: TestRelay.Service) =>
  Effect.gen(function* () {
    const { keys, user } = yield* startUser(relay.url)
    const challenges = yield* user.subscribeAuthChallenges
    const { stream_id: streamId } = yield* a.http(
      started("/authenticate-key", { main_key: keys.publicKey, subkeys: [] })
    )
    const challenge = yield* Stream.runHead(challenges).pipe(Effect.timeout("10 seconds"), Effect.flatten, Effect.orDie)
    return { user, streamId, challenge }
  })

/** The user approves; the stream ends on `b` with `authenticate_key` approved. */
const approvedOn = (
  b: Instance,
  relay: TestRelay.Service,
  taken: { readonly user: User.Service; readonly streamId: string; readonly challenge: Auth.AuthChallenge }
) =>
  Effect.gen(function* () {
    const events = yield* approveUntil(
      relay,
      taken.user,
      taken.challenge,
      b.http(awaitEvents(taken.streamId, (events) => events.length > 0))
    )
    assert.deepStrictEqual(
      events.map((event) => [event.type, (event["status"] as { status?: string } | undefined)?.status]),
      [["authenticate_key", "approved"]]
    )
    assert.strictEqual((yield* b.store.getStream(taken.streamId)).status, "completed")
  })

describe.skipIf(!runnable)("several instances on one PostgreSQL", () => {
  layer(Layer.merge(TestRelay.layer, PgCluster.layer), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.scoped(
      "a handshake created on A, received by both instances: recorded once, visible on B, its operation gone",
      () =>
        Effect.gen(function* () {
          const { a, b, relay } = yield* startPair()
          const { keys: userKeys, user } = yield* startUser(relay.url)
          const created = yield* a.http(started("/key-handshake", {}))
          yield* user.handshake(created.url!)
          const events = yield* b.http(awaitEvents(created.stream_id, (events) => events.length > 0))
          assert.deepStrictEqual(
            events.map((event) => [event.type, event["main_key"]]),
            [["key_handshake", userKeys.publicKey]]
          )
          const stream = yield* b.store.getStream(created.stream_id)
          assert.strictEqual(stream.status, "completed")
          assert.strictEqual(stream.eventCount, 1)
          assert.isTrue(
            Option.isNone(
              yield* b.store.getOperation("key_handshake", new URL(created.url!).searchParams.get("token")!)
            )
          )
        })
    )

    it.scoped(
      "the same static token POSTed to A and B at once: one stream; closed on B, reopened on A as a new one",
      () =>
        Effect.gen(function* () {
          const { a, b, relay } = yield* startPair()
          const body = { static_token: "table-14-restaurant-a", no_request: false }
          const [onA, onB] = yield* Effect.all(
            [a.http(started("/key-handshake", body)), b.http(started("/key-handshake", body))],
            {
              concurrency: "unbounded"
            }
          )
          assert.strictEqual(onA.stream_id, onB.stream_id)
          assert.strictEqual(onA.url, onB.url)
          assert.strictEqual((yield* a.store.listStreams({ status: "in_flight", kind: "key_handshake" })).length, 1)
          const conflict = yield* b.http(post("/key-handshake", { ...body, no_request: true }))
          assert.strictEqual(conflict.status, 409, conflict.text)
          // two users scan it: two events, whichever instance records them
          const first = yield* startUser(relay.url)
          const second = yield* startUser(relay.url)
          yield* first.user.handshake(onA.url!)
          yield* second.user.handshake(onA.url!)
          yield* b.http(awaitEvents(onA.stream_id, (events) => events.length === 2))
          // closed on B (A owns it): closed once, and A lets go of it
          const closed = yield* b.http(
            sendJson(jsonRequest("DELETE", `/key-handshake/${onA.stream_id}`, undefined).pipe(authed))
          )
          assert.strictEqual(closed.status, 200, closed.text)
          const events = yield* a.http(poll(onA.stream_id))
          assert.deepStrictEqual(
            events.map((event) => event.type),
            ["key_handshake", "key_handshake", "error"]
          )
          assert.strictEqual(events[2]!["reason"], "closed")
          const again = yield* a.http(started("/key-handshake", body))
          assert.notStrictEqual(again.stream_id, onA.stream_id)
          const third = yield* startUser(relay.url)
          yield* third.user.handshake(again.url!)
          yield* b.http(awaitEvents(again.stream_id, (events) => events.length === 1))
          assert.strictEqual((yield* a.http(poll(onA.stream_id))).length, 3)
        })
    )

    it.scoped("a one-shot handshake owned by A, closed on B: A's timer never adds a timeout", () =>
      Effect.gen(function* () {
        const { a, b } = yield* startPair({ handshakeTimeout: "1500 millis" })
        const created = yield* a.http(started("/key-handshake", {}))
        const closed = yield* b.http(
          sendJson(jsonRequest("DELETE", `/key-handshake/${created.stream_id}`, undefined).pipe(authed))
        )
        assert.strictEqual(closed.status, 200, closed.text)
        // past the deadline and a renewal
        yield* Effect.sleep("2500 millis")
        const events = yield* a.http(poll(created.stream_id))
        assert.deepStrictEqual(
          events.map((event) => [event.type, event["reason"]]),
          [["error", "closed"]]
        )
      })
    )

    it.scoped(
      "a challenge whose owner crashed is taken over by B once the lease expires; the approval ends it on B",
      () =>
        Effect.gen(function* () {
          const { a, b, relay } = yield* startPair()
          const taken = yield* challengeOn(a, relay)
          const before = yield* b.store.getOperation("authenticate_key", taken.streamId)
          assert.isTrue(Option.exists(before, (op) => Option.contains(op.owner, a.owner)))
          yield* a.crash
          const took = yield* awaitOwner(b.store, "authenticate_key", taken.streamId, b.owner)
          // not before A's lease ran out (1.5 s from its last renewal), and soon after
          assert.isAtLeast(took, 800)
          assert.isBelow(took, 5000)
          yield* approvedOn(b, relay, taken)
        })
    )

    it.scoped("a challenge whose owner crashed and that nobody answers ends with error timeout on B", () =>
      Effect.gen(function* () {
        const { a, b, relay } = yield* startPair({ authTimeout: "3 seconds" })
        const { keys: userKeys } = yield* startUser(relay.url)
        const { stream_id: streamId } = yield* a.http(
          started("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
        )
        yield* a.crash
        const events = yield* b.http(awaitEvents(streamId, (events) => events.length > 0))
        assert.deepStrictEqual(
          events.map((event) => [event.type, event["reason"]]),
          [["error", "timeout"]]
        )
      })
    )

    it.scoped(
      "A shut down gracefully releases its challenge: B takes it over at its next renewal and completes it",
      () =>
        Effect.gen(function* () {
          const { a, b, relay } = yield* startPair({ lease: "6 seconds" })
          const taken = yield* challengeOn(a, relay)
          yield* a.stop
          const released = yield* b.store.getOperation("authenticate_key", taken.streamId)
          assert.isTrue(Option.exists(released, (op) => Option.isNone(op.owner) || Option.contains(op.owner, b.owner)))
          const took = yield* awaitOwner(b.store, "authenticate_key", taken.streamId, b.owner)
          // at B's next renewals, long before A's 6 s lease would have run out: released, not expired
          assert.isBelow(took, 3000)
          yield* approvedOn(b, relay, taken)
        })
    )

    it.scoped("a subscription billed by A and closed on B: closed for the user, and A bills no more", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const cluster = yield* PgCluster.PgCluster
        const databaseUrl = yield* cluster.createDatabase()
        const { network, nwcUrl } = yield* startNetwork(relay.url, { user: 1_000_000 })
        const options = { relay: relay.url, file: "", keys: yield* Keys.generate, nwcUrl, databaseUrl } as const
        // A alone first: it takes the billing lease and keeps it while it runs
        const a = yield* startDaemon(options)
        const { user } = yield* startUserWith(relay.url, yield* network.wallet("user"), {
          recurring: Recurring.authorizeAll
        })
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const subscriptionId = yield* a.http(
          Effect.gen(function* () {
            const { subscriptionId } = yield* subscribe({
              mainKey: user.publicKey,
              calendar: "*-*-* *:*:*",
              firstDue: now,
              expiresAt: now + 60
            })
            yield* awaitBalance(1000)
            return subscriptionId
          })
        )
        const b = yield* startDaemon(options)
        const closed = yield* b.http(
          post("/payments/recurring/close", { main_key: user.publicKey, subkeys: [], subscription_id: subscriptionId })
        )
        assert.strictEqual(closed.status, 200, closed.text)
        const status = yield* user.subscriptions.pipe(
          Effect.map((all) => all.find((s) => s.subscriptionId === subscriptionId)?.status._tag),
          Effect.filterOrFail(
            (tag) => tag === "Closed",
            () => "still active"
          ),
          Effect.retry(Schedule.spaced("50 millis")),
          Effect.timeout("10 seconds")
        )
        assert.strictEqual(status, "Closed")
        // a period in flight at the close may still be paid; after that, a few periods pass without billing
        const settled = yield* network.balanceOf("daemon")
        assert.isAtMost(settled, 3000)
        yield* Effect.sleep("2500 millis")
        assert.strictEqual(yield* network.balanceOf("daemon"), settled)
      })
    )
  })
})
