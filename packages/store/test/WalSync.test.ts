/**
 * Durable commits off the event loop (`internal/walSync.ts`): writers are answered only once their commit is
 * flushed, concurrent writers share flushes, and a failed flush is reported to its writers, never retried as a
 * second write.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import * as Internal from "../src/internal/store.js"
import * as WalSync from "../src/internal/walSync.js"

/** A flush the test ends by hand. */
const controlledFlush = () => {
  const runs: Array<{ readonly resolve: () => void; readonly reject: (error: Error) => void }> = []
  const flush = () => new Promise<void>((resolve, reject) => runs.push({ resolve, reject }))
  return { runs, flush }
}

const settled = async (promise: Promise<unknown>) => {
  let done = false
  promise.then(
    () => (done = true),
    () => (done = true)
  )
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe("coalesce", () => {
  it("a caller waits for a flush that started after its call; callers during a flush share the next one", async () => {
    const { flush, runs } = controlledFlush()
    const sync = WalSync.coalesce(flush)
    const first = sync()
    assert.strictEqual(runs.length, 1)
    const during = Array.from({ length: 10 }, () => sync())
    // no second flush while one runs: the ten share the next
    assert.strictEqual(runs.length, 1)
    runs[0]!.resolve()
    await first
    assert.isFalse(await settled(Promise.race(during)), "callers during the first flush wait for the second")
    assert.strictEqual(runs.length, 2)
    runs[1]!.resolve()
    await Promise.all(during)
    assert.strictEqual(runs.length, 2)
    // idle again: the next caller starts a flush at once
    const later = sync()
    assert.strictEqual(runs.length, 3)
    runs[2]!.resolve()
    await later
  })

  it("a failed flush fails its callers; the next call flushes again", async () => {
    const { flush, runs } = controlledFlush()
    const sync = WalSync.coalesce(flush)
    const failing = sync()
    const queued = sync()
    runs[0]!.reject(new Error("EIO"))
    await failing.then(
      () => assert.fail("expected the flush's error"),
      (error: Error) => assert.strictEqual(error.message, "EIO")
    )
    // the queued caller still gets a flush of its own
    await new Promise((resolve) => setImmediate(resolve))
    assert.strictEqual(runs.length, 2)
    runs[1]!.resolve()
    await queued
  })
})

/** A database file in a temporary directory removed with the scope. */
const tempDatabase = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(NodePath.join(tmpdir(), "portal-walsync-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => NodePath.join(dir, "store.db")))

const sqlite = (filename: string) =>
  SqliteClient.make({ filename }).pipe(Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make))

/** The store over a fresh SQLite file, with `durable` as its flush. */
const storeWith = (durable: Effect.Effect<void, SqlError>) =>
  Effect.gen(function* () {
    const sql = yield* sqlite(yield* tempDatabase)
    yield* sql.unsafe("PRAGMA synchronous = NORMAL")
    return yield* Internal.make({
      sql,
      backend: "sqlite",
      retention: false,
      pollInterval: Option.none(),
      listen: Option.none(),
      durable
    })
  })

/** An SQLite store over a real file whose `durable` step, once `hold` is called, waits for `open`; counts runs. */
const gatedStore = Effect.gen(function* () {
  const gate = yield* Deferred.make<void>()
  const state = { flushes: 0, held: false }
  const store = yield* storeWith(
    Effect.suspend(() => {
      if (!state.held) return Effect.void
      state.flushes++
      return Deferred.await(gate)
    })
  )
  const hold = Effect.sync(() => {
    state.held = true
  })
  return { store, state, hold, open: Deferred.succeed(gate, undefined) }
})

describe("SQLite store with durable commits", () => {
  it.scopedLive("appends, transactions and single writes are answered only after the flush; flushes are shared", () =>
    Effect.gen(function* () {
      const { hold, open, state, store } = yield* gatedStore
      yield* store.createStream("s1", "test")
      yield* hold
      const appends = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (i) => store.append("s1", { type: "n", data: { i } }),
          { concurrency: "unbounded" }
        )
      )
      const written = yield* Effect.fork(
        store.transaction(store.putOperation({ kind: "k", id: "op", payload: {}, streamId: "s1" }))
      )
      const created = yield* Effect.fork(store.createStream("s2", "test"))
      // the single write and a first batch are committed and wait for their flushes; nobody is answered before
      yield* Effect.repeat(Effect.option(store.getStream("s2")), {
        until: Option.isSome,
        schedule: Schedule.spaced("5 millis")
      })
      yield* Effect.repeat(
        Effect.sync(() => state.flushes),
        {
          until: (flushes) => flushes >= 2,
          schedule: Schedule.spaced("5 millis")
        }
      )
      assert.isNull(appends.unsafePoll())
      assert.isNull(written.unsafePoll())
      assert.isNull(created.unsafePoll())
      yield* open
      const indexes = (yield* Fiber.join(appends)).map((event) => event.index)
      assert.deepStrictEqual(
        indexes.toSorted((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i)
      )
      yield* Fiber.join(written)
      assert.strictEqual((yield* Fiber.join(created)).id, "s2")
      // 22 writers, group-committed while the flush was held: far fewer flushes than writers
      assert.isBelow(state.flushes, 10)
    })
  )

  it.scoped("a failed flush fails the writers with a store error, and the commit is not written twice", () =>
    Effect.gen(function* () {
      let failing = false
      const store = yield* storeWith(
        Effect.suspend(() => (failing ? Effect.fail(new SqlError({ message: "EIO" })) : Effect.void))
      )
      const id = (yield* store.createStream("s1", "test")).id
      failing = true
      const exit = yield* Effect.exit(store.append(id, { type: "n", data: {} }))
      assert.isTrue(Exit.isFailure(exit))
      failing = false
      // committed once (the flush failed after the commit): the next append gets index 1
      assert.strictEqual((yield* store.append(id, { type: "n", data: {} })).index, 1)
      assert.strictEqual((yield* store.readEvents(id)).length, 2)
    })
  )

  it.scoped("the real WAL flush runs on a fresh and on a written database", () =>
    Effect.gen(function* () {
      const filename = yield* tempDatabase
      const flush = yield* WalSync.make(`${filename}-wal`)
      // no WAL yet: nothing to flush
      yield* flush
      const sql = yield* sqlite(filename)
      yield* sql.unsafe("CREATE TABLE t (x INTEGER)")
      yield* sql.unsafe("INSERT INTO t VALUES (1)")
      yield* Effect.all([flush, flush, flush], { concurrency: "unbounded" })
    })
  )
})
