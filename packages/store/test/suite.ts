/**
 * The store suite, run unchanged against every backend (`Store.sqlite.test.ts`, `Store.pg.test.ts`).
 * Each test opens its own fresh database.
 */
import { assert, type Vitest } from "@effect/vitest"
import type { Model } from "@portal/store"
import type * as Store from "@portal/store/Store"
import { StoreFailure, StreamAlreadyExists, StreamFinished, StreamNotFound } from "@portal/store/StoreError"
import * as Array from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Schema from "effect/Schema"

/** A fresh, empty database of one backend. */
export interface Database {
  /** Opens a store on this database; several may be open at once on PostgreSQL. */
  readonly open: (options?: {
    readonly retention?: Store.RetentionOptions | false
    readonly pollInterval?: Duration.DurationInput
  }) => Effect.Effect<Store.Service, StoreFailure, Scope.Scope>
  /** How many migrations the database has recorded (read with a separate client, no store open on SQLite). */
  readonly recordedMigrations: Effect.Effect<number, unknown, Scope.Scope>
}

const mainKey = Schema.decodeSync(PublicKeyHex)("60306a10cf304a12826e8afe728bd3c3045cc4d3566c3004429000e571adac91")

const ev = (type: string, data: Model.JsonObject = {}): Model.NewEvent => ({ type, data })

/** Collects a live tail into a queue, in a fiber owned by the test's scope. */
const tail = (store: Store.Service, streamId: string, after?: number) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<Model.StoredEvent>()
    const fiber = yield* store.events(streamId, after).pipe(
      Stream.runForEach((event) => Queue.offer(queue, event)),
      Effect.forkScoped
    )
    const take = (n: number) =>
      Queue.takeBetween(queue, n, n).pipe(
        Effect.map(Chunk.toReadonlyArray),
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => `timed out waiting for ${n} events` })
      )
    return { queue, fiber, take }
  })

const key = (d: Model.WebhookDelivery) => `${d.event.streamId}/${d.event.index}`

const indexes = (events: ReadonlyArray<Model.StoredEvent>) => events.map((event) => event.index)

export const storeSuite = <R>(
  it: Vitest.MethodsNonLive<R, true>,
  fresh: Effect.Effect<Database, unknown, Scope.Scope | R>
) => {
  const withStore = <A, E>(f: (store: Store.Service, db: Database) => Effect.Effect<A, E, Scope.Scope>) =>
    Effect.gen(function* () {
      const db = yield* fresh
      const store = yield* db.open({ retention: false })
      return yield* f(store, db)
    })

  it.scoped("creates, reads and lists streams; unknown and duplicate ids are typed errors", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const created = yield* store.createStream("s-1", "single_payment")
        assert.strictEqual(created.status, "in_flight")
        assert.strictEqual(created.eventCount, 0)
        assert.isFalse(created.finished)
        const duplicate = yield* Effect.flip(store.createStream("s-1", "raw_payment"))
        assert.instanceOf(duplicate, StreamAlreadyExists)
        const missing = yield* Effect.flip(store.getStream("nope"))
        assert.instanceOf(missing, StreamNotFound)
        assert.strictEqual(missing.message, "Stream 'nope' not found")
        assert.instanceOf(yield* Effect.flip(store.readEvents("nope")), StreamNotFound)
        assert.instanceOf(yield* Effect.flip(store.append("nope", ev("error"))), StreamNotFound)
        yield* store.createStream("s-2", "key_handshake")
        yield* store.finishStream("s-2", "failed")
        const open = yield* store.listStreams({ status: "in_flight" })
        assert.deepStrictEqual(
          open.map((s) => s.id),
          ["s-1"]
        )
        const handshakes = yield* store.listStreams({ kind: "key_handshake" })
        assert.deepStrictEqual(
          handshakes.map((s) => [s.id, s.status]),
          [["s-2", "failed"]]
        )
        assert.strictEqual((yield* store.listStreams()).length, 2)
      })
    )
  )

  it.scoped("1 000 concurrent appends to one stream get indexes 0..999, once each, in order", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("busy", "recurring_payment_close")
        const appended = yield* Effect.forEach(
          Array.range(0, 999),
          (n) => store.append("busy", ev("closed_recurring_payment", { n })),
          { concurrency: "unbounded" }
        )
        const got = Array.sort(indexes(appended), Order.number)
        assert.deepStrictEqual(got, Array.range(0, 999))
        const stored = yield* store.readEvents("busy")
        assert.deepStrictEqual(indexes(stored), Array.range(0, 999))
        // each stored event is the one its append returned
        const byN = new Map(appended.map((event) => [event.data.n, event.index]))
        for (const event of stored) assert.strictEqual(byN.get(event.data.n), event.index)
        assert.strictEqual((yield* store.getStream("busy")).eventCount, 1000)
      })
    )
  )

  it.scoped("appends return what is read back: type, JSON data, timestamp", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("s", "cashu_request")
        const data = {
          status: { status: "success", token: "cashuB…" },
          nested: [1, 2.5, null, true, "ünïcødé ✓"],
          empty: {}
        }
        const before = yield* DateTime.now
        const appended = yield* store.append("s", ev("cashu_response", data))
        const after = yield* DateTime.now
        const [stored] = yield* store.readEvents("s")
        assert.deepStrictEqual(stored, appended)
        assert.deepStrictEqual(stored!.data, data)
        assert.strictEqual(stored!.type, "cashu_response")
        assert.isTrue(DateTime.between(stored!.timestamp, { minimum: before, maximum: after }))
      })
    )
  )

  it.scoped("polling: after is exclusive; a finished stream refuses appends; reopen keeps indexes", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("p", "single_payment")
        for (const status of ["user_approved", "user_success"]) {
          yield* store.append("p", ev("payment_status_update", { status: { status } }))
        }
        const last = yield* store.append("p", ev("payment_status_update", { status: { status: "paid" } }), {
          finish: "completed"
        })
        assert.strictEqual(last.index, 2)
        assert.deepStrictEqual(indexes(yield* store.readEvents("p", 0)), [1, 2])
        assert.deepStrictEqual(indexes(yield* store.readEvents("p", 2)), [])
        assert.deepStrictEqual(indexes(yield* store.readEvents("p")), [0, 1, 2])
        const info = yield* store.getStream("p")
        assert.strictEqual(info.status, "completed")
        assert.isTrue(Option.isSome(info.finishedAt))
        const late = yield* Effect.flip(
          store.append("p", ev("payment_status_update", { status: { status: "timeout" } }))
        )
        assert.instanceOf(late, StreamFinished)
        // finishing again changes nothing
        assert.strictEqual((yield* store.finishStream("p", "failed")).status, "completed")
        assert.strictEqual((yield* store.getStream("p")).eventCount, 3)

        yield* store.createStream("recurring-payment-close", "recurring_payment_close")
        yield* store.append("recurring-payment-close", ev("closed_recurring_payment"))
        yield* store.finishStream("recurring-payment-close", "failed")
        const reopened = yield* store.reopenStream("recurring-payment-close", "recurring_payment_close")
        assert.strictEqual(reopened.status, "in_flight")
        assert.isTrue(Option.isNone(reopened.finishedAt))
        assert.strictEqual((yield* store.append("recurring-payment-close", ev("closed_recurring_payment"))).index, 1)
        assert.strictEqual((yield* store.reopenStream("fresh", "recurring_payment_close")).eventCount, 0)
      })
    )
  )

  it.scoped("live tail: stored events first, then new ones as appended; after is exclusive; ends when finished", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("t", "single_payment")
        for (const n of [0, 1, 2]) yield* store.append("t", ev("e", { n }))
        const { fiber, take } = yield* tail(store, "t", 0)
        assert.deepStrictEqual(indexes(yield* take(2)), [1, 2])
        yield* store.append("t", ev("e", { n: 3 }))
        const [third] = yield* take(1)
        assert.deepStrictEqual([third!.index, third!.data], [3, { n: 3 }])
        yield* Effect.forEach([4, 5, 6], (n) => store.append("t", ev("e", { n })), { concurrency: 3 })
        assert.deepStrictEqual(indexes(yield* take(3)), [4, 5, 6])
        yield* store.append("t", ev("e", { n: 7 }), { finish: "completed" })
        assert.deepStrictEqual(indexes(yield* take(1)), [7])
        const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("10 seconds"))
        assert.isTrue(Exit.isSuccess(exit))

        // a finished stream replays what is after the cursor, then ends
        const replay = yield* Stream.runCollect(store.events("t", 5)).pipe(Effect.timeout("10 seconds"))
        assert.deepStrictEqual(indexes(Chunk.toReadonlyArray(replay)), [6, 7])
        const none = yield* Stream.runCollect(store.events("t", 7)).pipe(Effect.timeout("10 seconds"))
        assert.strictEqual(Chunk.size(none), 0)
      })
    )
  )

  it.scoped("live tail of a stream finished without an event ends; of an unknown stream fails", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("h", "key_handshake")
        const { fiber, take } = yield* tail(store, "h")
        yield* store.append("h", ev("key_handshake", { main_key: mainKey, preferred_relays: [] }))
        assert.deepStrictEqual(indexes(yield* take(1)), [0])
        yield* store.finishStream("h", "completed")
        assert.isTrue(Exit.isSuccess(yield* Fiber.await(fiber).pipe(Effect.timeout("10 seconds"))))
        const error = yield* Effect.flip(Stream.runCollect(store.events("missing")))
        assert.instanceOf(error, StreamNotFound)
      })
    )
  )

  it.scoped("many tails of one stream each see every event once, in order, under concurrent appends", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("fan", "x")
        const tails = yield* Effect.forEach(Array.range(1, 5), () => tail(store, "fan"))
        yield* Effect.forEach(Array.range(0, 99), (n) => store.append("fan", ev("e", { n })), { concurrency: 8 })
        for (const t of tails) assert.deepStrictEqual(indexes(yield* t.take(100)), Array.range(0, 99))
      })
    )
  )

  it.scoped("migrations are idempotent: reopening keeps data and records each migration once", () =>
    Effect.gen(function* () {
      const db = yield* fresh
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* db.open({ retention: false })
          yield* store.createStream("kept", "x")
          yield* store.append("kept", ev("e", { n: 0 }))
        })
      )
      const first = yield* Effect.scoped(db.recordedMigrations)
      yield* Effect.scoped(
        Effect.gen(function* () {
          const store = yield* db.open({ retention: false })
          assert.deepStrictEqual(indexes(yield* store.readEvents("kept")), [0])
          assert.strictEqual((yield* store.append("kept", ev("e", { n: 1 }))).index, 1)
        })
      )
      const second = yield* Effect.scoped(db.recordedMigrations)
      assert.isAbove(first, 0)
      assert.strictEqual(second, first)
    })
  )

  it.scoped("retention removes finished streams older than the limit, never open ones", () =>
    withStore((store) =>
      Effect.gen(function* () {
        for (const id of ["old-done", "old-open"]) {
          yield* store.createStream(id, "x")
          yield* store.append(id, ev("e"), { webhook: true })
        }
        yield* store.putOperation({ kind: "payment", id: "old-done", streamId: "old-done", payload: {} })
        yield* store.finishStream("old-done", "completed")
        yield* Effect.sleep("150 millis")
        yield* store.createStream("new-done", "x")
        yield* store.finishStream("new-done", "failed")
        const removed = yield* store.purgeFinishedStreams("100 millis")
        assert.strictEqual(removed, 1)
        assert.instanceOf(yield* Effect.flip(store.getStream("old-done")), StreamNotFound)
        assert.deepStrictEqual(
          Array.sort(
            (yield* store.listStreams()).map((s) => s.id),
            Order.string
          ),
          ["new-done", "old-open"]
        )
        // its operation and webhook rows went with it
        assert.isTrue(Option.isNone(yield* store.getOperation("payment", "old-done")))
        const claimed = yield* store.claimWebhooks({ owner: "me", limit: 10, lease: "1 minute" })
        assert.deepStrictEqual(
          claimed.map((d) => d.event.streamId),
          ["old-open"]
        )
      })
    )
  )

  it.scoped("the retention fiber purges in the background", () =>
    Effect.gen(function* () {
      const db = yield* fresh
      const store = yield* db.open({ retention: { maxAge: "50 millis", interval: "25 millis" } })
      yield* store.createStream("done", "x")
      yield* store.createStream("open", "x")
      yield* store.finishStream("done", "completed")
      yield* store.markSeen("nip98", "id-1", "10 millis")
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual(
        (yield* store.listStreams()).map((s) => s.id),
        ["open"]
      )
      assert.strictEqual(yield* store.purgeSeen, 0)
    })
  )

  it.scoped("webhook outbox: per-stream order, claims, attempts, retries and dead letters", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("a", "x")
        yield* store.createStream("b", "x")
        for (const n of [0, 1, 2]) yield* store.append("a", ev("e", { n }), { webhook: true })
        for (const n of [0, 1]) yield* store.append("b", ev("e", { n }), { webhook: true })
        yield* store.append("b", ev("no-hook"))
        yield* store.enqueueWebhook("b", 1) // already queued: no duplicate
        const claim = (owner = "me") => store.claimWebhooks({ owner, limit: 10, lease: "1 minute" })

        const first = yield* claim()
        assert.deepStrictEqual(first.map(key), ["a/0", "b/0"])
        const [a0, b0] = first
        assert.deepStrictEqual(a0!.event.data, { n: 0 })
        assert.strictEqual(a0!.attempts, 0)
        assert.deepStrictEqual(yield* claim("other"), [])

        const retryAt = DateTime.add(yield* DateTime.now, { millis: 200 })
        yield* store.markWebhookFailed(a0!.id, { error: "HTTP 500", nextAttemptAt: retryAt })
        yield* store.markWebhookDelivered(b0!.id)
        assert.deepStrictEqual((yield* claim()).map(key), ["b/1"])
        assert.deepStrictEqual(
          Option.map(yield* store.nextWebhookDue, DateTime.toEpochMillis),
          Option.some(DateTime.toEpochMillis(retryAt))
        )

        yield* Effect.sleep("250 millis")
        const [retry] = yield* claim()
        assert.strictEqual(key(retry!), "a/0")
        assert.strictEqual(retry!.attempts, 1)
        assert.deepStrictEqual(retry!.lastError, Option.some("HTTP 500"))
        yield* store.markWebhookDead(retry!.id, "too old")
        assert.deepStrictEqual((yield* claim()).map(key), ["a/1"])
      })
    )
  )

  it.scoped("webhook claims expire, so another owner takes a delivery over", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("a", "x")
        yield* store.append("a", ev("e"), { webhook: true })
        // the lease outlasts a loaded machine's pause between the two claims
        assert.strictEqual((yield* store.claimWebhooks({ owner: "one", limit: 5, lease: "1 second" })).length, 1)
        assert.strictEqual((yield* store.claimWebhooks({ owner: "two", limit: 5, lease: "1 minute" })).length, 0)
        yield* Effect.sleep("1100 millis")
        assert.strictEqual((yield* store.claimWebhooks({ owner: "two", limit: 5, lease: "1 minute" })).length, 1)
      })
    )
  )

  it.scoped("operation state: upsert, insert-if-absent, list, delete, leases", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("hs", "key_handshake")
        const deadline = DateTime.unsafeMake(1_767_225_600_000)
        const put = yield* store.putOperation({
          kind: "static_token",
          id: "table-14",
          streamId: "hs",
          payload: { noRequest: false },
          deadline
        })
        assert.deepStrictEqual(put.payload, { noRequest: false })
        assert.deepStrictEqual(put.streamId, Option.some("hs"))
        assert.isTrue(Option.getEquivalence(DateTime.Equivalence)(put.deadline, Option.some(deadline)))

        const again = yield* store.insertOperation({
          kind: "static_token",
          id: "table-14",
          payload: { noRequest: true }
        })
        assert.isFalse(again.inserted)
        assert.deepStrictEqual(again.operation.payload, { noRequest: false })
        const other = yield* store.insertOperation({ kind: "auth_challenge", id: "c1", payload: ["x"] })
        assert.isTrue(other.inserted)
        assert.isTrue(Option.isNone(other.operation.streamId))

        yield* store.putOperation({
          kind: "static_token",
          id: "table-14",
          streamId: "hs",
          payload: { noRequest: true }
        })
        const got = yield* store.getOperation("static_token", "table-14")
        assert.deepStrictEqual(
          Option.map(got, (op) => op.payload),
          Option.some({ noRequest: true })
        )
        assert.deepStrictEqual(
          (yield* store.listOperations()).map((op) => op.id),
          ["table-14", "c1"]
        )
        assert.deepStrictEqual(
          (yield* store.listOperations("auth_challenge")).map((op) => op.id),
          ["c1"]
        )

        const mine = yield* store.claimOperations({ owner: "a", lease: "600 millis" })
        assert.strictEqual(mine.length, 2)
        assert.deepStrictEqual(
          mine.map((op) => op.owner),
          [Option.some("a"), Option.some("a")]
        )
        assert.strictEqual((yield* store.claimOperations({ owner: "b", lease: "1 minute" })).length, 0)
        assert.strictEqual(
          (yield* store.claimOperations({ owner: "a", lease: "600 millis", kind: "auth_challenge" })).length,
          1
        )
        yield* Effect.sleep("750 millis")
        assert.strictEqual((yield* store.claimOperations({ owner: "b", lease: "1 minute" })).length, 2)
        yield* store.releaseOperations("b")
        assert.strictEqual((yield* store.claimOperations({ owner: "a", lease: "1 minute" })).length, 2)

        assert.isTrue(yield* store.deleteOperation("static_token", "table-14"))
        assert.isFalse(yield* store.deleteOperation("static_token", "table-14"))
        assert.isTrue((yield* store.insertOperation({ kind: "static_token", id: "table-14", payload: {} })).inserted)
      })
    )
  )

  it.scoped("operations created under a lease: nobody else claims them until it expires; by stream", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("s1", "authenticate_key")
        const created = yield* store.insertOperation({
          kind: "authenticate_key",
          id: "s1",
          streamId: "s1",
          payload: {},
          lease: { owner: "a", duration: "600 millis" }
        })
        assert.deepStrictEqual(created.operation.owner, Option.some("a"))
        assert.isTrue(Option.isSome(created.operation.leaseUntil))
        const put = yield* store.putOperation({
          kind: "authenticate_key",
          id: "s2",
          streamId: "s1",
          payload: {},
          lease: { owner: "a", duration: "600 millis" }
        })
        assert.deepStrictEqual(put.owner, Option.some("a"))
        // nothing to take over while a's lease runs
        assert.deepStrictEqual(yield* store.claimOperations({ owner: "b", lease: "1 minute" }), [])
        // replacing keeps the owner and lease, whatever the input says
        const replaced = yield* store.putOperation({
          kind: "authenticate_key",
          id: "s1",
          streamId: "s1",
          payload: { published: true },
          lease: { owner: "b", duration: "1 minute" }
        })
        assert.deepStrictEqual(replaced.owner, Option.some("a"))
        assert.deepStrictEqual(
          (yield* store.operationsOfStream("s1")).map((op) => op.id),
          ["s1", "s2"]
        )
        assert.deepStrictEqual(yield* store.operationsOfStream("nope"), [])
        yield* Effect.sleep("750 millis")
        assert.strictEqual((yield* store.claimOperations({ owner: "b", lease: "1 minute" })).length, 2)
      })
    )
  )

  it.scoped("recurring subscriptions: upsert, due list, payments counted atomically", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const due = DateTime.unsafeMake(1_767_225_600_000)
        const base = {
          mainKey,
          amount: 10_000,
          currency: "Millisats",
          recurrence: { calendar: "*-*-01 00:00:00", max_payments: 12 },
          status: "active"
        }
        const created = yield* store.putSubscription({ ...base, id: "sub-1", nextDue: due })
        assert.strictEqual(created.paymentsMade, 0)
        assert.deepStrictEqual(created.recurrence, base.recurrence)
        yield* store.putSubscription({ ...base, id: "sub-2" })
        const dueNow = yield* store.listSubscriptions({ dueBefore: DateTime.add(due, { seconds: 1 }) })
        assert.deepStrictEqual(
          dueNow.map((s) => s.id),
          ["sub-1"]
        )
        yield* Effect.forEach(Array.range(1, 10), () => store.recordSubscriptionPayment("sub-1", Option.some(due)), {
          concurrency: "unbounded"
        })
        const paid = yield* store.getSubscription("sub-1")
        assert.deepStrictEqual(
          Option.map(paid, (s) => s.paymentsMade),
          Option.some(10)
        )
        // an upsert without paymentsMade keeps the count
        const updated = yield* store.putSubscription({ ...base, id: "sub-1", status: "cancelled" })
        assert.deepStrictEqual([updated.status, updated.paymentsMade], ["cancelled", 10])
        assert.isTrue(Option.isNone(updated.nextDue))
        assert.deepStrictEqual(
          (yield* store.listSubscriptions({ status: "active" })).map((s) => s.id),
          ["sub-2"]
        )
        assert.isTrue(Option.isNone(yield* store.recordSubscriptionPayment("missing", Option.none())))
        // a write that keeps a closed status: the other fields change, the status stays
        yield* store.putSubscription({ ...base, id: "sub-2", status: "closed" })
        const kept = yield* store.putSubscription({
          ...base,
          id: "sub-2",
          status: "active",
          data: { pending: null },
          keepStatus: ["closed"]
        })
        assert.deepStrictEqual([kept.status, kept.data], ["closed", { pending: null }])
        const reopened = yield* store.putSubscription({ ...base, id: "sub-2", status: "active", keepStatus: ["done"] })
        assert.strictEqual(reopened.status, "active")
        assert.isTrue(yield* store.deleteSubscription("sub-2"))
        assert.isTrue(Option.isNone(yield* store.getSubscription("sub-2")))
      })
    )
  )

  it.scoped("relays: added in order, removal markers, re-adding moves to the end", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.addRelay("wss://a.example")
        yield* store.addRelay("wss://b.example")
        yield* store.addRelay("wss://a.example") // already added: stays first
        yield* store.removeRelay("wss://config.example")
        const list = (yield* store.listRelays).map((r) => `${r.state}:${r.url}`)
        assert.deepStrictEqual(list, ["added:wss://a.example", "added:wss://b.example", "removed:wss://config.example"])
        yield* store.removeRelay("wss://a.example")
        yield* store.addRelay("wss://a.example")
        const again = (yield* store.listRelays).filter((r) => r.state === "added").map((r) => r.url)
        assert.deepStrictEqual(again, ["wss://b.example", "wss://a.example"])
      })
    )
  )

  it.scoped("seen ids: first sighting true, repeats false until the ttl passes", () =>
    withStore((store) =>
      Effect.gen(function* () {
        assert.isTrue(yield* store.markSeen("nip98", "e1", "600 millis"))
        assert.isFalse(yield* store.markSeen("nip98", "e1", "600 millis"))
        assert.isTrue(yield* store.markSeen("relay-event", "e1", "1 minute"))
        const racing = yield* Effect.forEach(Array.range(1, 20), () => store.markSeen("race", "x", "1 minute"), {
          concurrency: "unbounded"
        })
        assert.strictEqual(racing.filter(Boolean).length, 1)
        yield* Effect.sleep("750 millis")
        assert.strictEqual(yield* store.purgeSeen, 1)
        assert.isTrue(yield* store.markSeen("nip98", "e1", "600 millis"))
      })
    )
  )

  it.scoped("transaction: all or nothing", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const failed = yield* Effect.flip(
          store.transaction(
            Effect.gen(function* () {
              yield* store.createStream("tx", "key_handshake")
              yield* store.append("tx", ev("e"), { webhook: true })
              yield* store.insertOperation({ kind: "static_token", id: "tok", streamId: "tx", payload: {} })
              return yield* Effect.fail("boom")
            })
          )
        )
        assert.strictEqual(failed, "boom")
        assert.instanceOf(yield* Effect.flip(store.getStream("tx")), StreamNotFound)
        assert.isTrue(Option.isNone(yield* store.getOperation("static_token", "tok")))
        const [info, op] = yield* store.transaction(
          Effect.all([
            store.createStream("tx", "key_handshake"),
            store.insertOperation({ kind: "static_token", id: "tok", streamId: "tx", payload: {} })
          ])
        )
        assert.strictEqual(info.id, "tx")
        assert.isTrue(op.inserted)
      })
    )
  )

  it.scoped("concurrent transactions and appends: each all or nothing, a failing one undoes only itself", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("busy", "x")
        const results = yield* Effect.all(
          globalThis.Array.from({ length: 60 }, (_, i) =>
            i % 3 === 2
              ? Effect.map(store.append("busy", ev(`a${i}`)), () => "appended" as const)
              : store
                  .transaction(
                    Effect.gen(function* () {
                      yield* store.createStream(`s${i}`, "key_handshake")
                      yield* store.putOperation({ kind: "key_handshake", id: `t${i}`, streamId: `s${i}`, payload: {} })
                      if (i % 6 === 1) return yield* Effect.fail(`boom ${i}`)
                      if (i % 6 === 4) return yield* Effect.die(`defect ${i}`)
                      return "stored" as const
                    })
                  )
                  .pipe(Effect.catchAllCause((cause) => Effect.succeed(Cause.pretty(cause))))
          ),
          { concurrency: "unbounded" }
        )
        for (const [i, result] of results.entries()) {
          if (i % 3 === 2) {
            assert.strictEqual(result, "appended")
            continue
          }
          const stream = yield* Effect.either(store.getStream(`s${i}`))
          const operation = yield* store.getOperation("key_handshake", `t${i}`)
          if (i % 6 === 1 || i % 6 === 4) {
            assert.include(result, i % 6 === 1 ? `boom ${i}` : `defect ${i}`)
            assert.isTrue(stream._tag === "Left" && stream.left instanceof StreamNotFound, `s${i} was undone`)
            assert.isTrue(Option.isNone(operation), `t${i} was undone`)
          } else {
            assert.strictEqual(result, "stored")
            assert.isTrue(stream._tag === "Right", `s${i} stored`)
            assert.isTrue(Option.isSome(operation), `t${i} stored`)
          }
        }
        assert.strictEqual((yield* store.getStream("busy")).eventCount, 20)
      })
    )
  )

  it.scoped("rejects data that is not JSON with a typed failure", () =>
    withStore((store) =>
      Effect.gen(function* () {
        yield* store.createStream("j", "x")
        const error = yield* Effect.flip(store.append("j", ev("e", { big: 1n })))
        assert.instanceOf(error, StoreFailure)
        assert.strictEqual(error instanceof StoreFailure ? error.reason : "", "Encode")
        assert.strictEqual((yield* store.getStream("j")).eventCount, 0)
      })
    )
  )
}
