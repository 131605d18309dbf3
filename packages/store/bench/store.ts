/**
 * Store benchmark: append throughput and live-tail latency, SQLite and PostgreSQL in the same run.
 *
 *   pnpm --filter @portal/store bench            (or: npx tsx bench/store.ts in packages/store)
 *
 * SQLite: a temp file with the store's defaults (WAL, synchronous=FULL). PostgreSQL: a throw-away cluster
 * (fsync=off, so disk latency is not measured there) or PORTAL_TEST_DATABASE_URL.
 *
 * - sequential append: one append at a time to one stream (latency-bound: one commit each);
 * - concurrent append: 64 appenders over 16 streams (the group commit on SQLite, the pool on PostgreSQL);
 * - tail latency: from just before `append` to the event arriving on an open `events` tail, same instance
 *   (and, on PostgreSQL, a second instance woken by NOTIFY).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Store from "@portal/store/Store"
import { PgCluster } from "@portal/testing"
import * as Array from "effect/Array"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodePath from "node:path"

const SEQUENTIAL = 500
const CONCURRENT = 4000
const STREAMS = 16
const CONCURRENCY = 64
const TAIL = 300

const payload = {
  status: { status: "paid", preimage: "ab".repeat(32) },
  main_key: "60306a10cf304a12826e8afe728bd3c3045cc4d3566c3004429000e571adac91"
}

const nowMs = Effect.map(Clock.currentTimeNanos, (ns) => Number(ns) / 1e6)

const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = yield* nowMs
    const result = yield* effect
    return [result, (yield* nowMs) - start] as const
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

const appendSequential = (store: Store.Service) =>
  Effect.gen(function* () {
    yield* store.createStream("seq", "bench")
    const [, ms] = yield* timed(
      Effect.forEach(Array.range(1, SEQUENTIAL), () => store.append("seq", { type: "e", data: payload }), {
        discard: true
      })
    )
    return (SEQUENTIAL / ms) * 1000
  })

const appendConcurrent = (store: Store.Service) =>
  Effect.gen(function* () {
    const streams = Array.range(1, STREAMS).map((n) => `c-${n}`)
    yield* Effect.forEach(streams, (id) => store.createStream(id, "bench"), { discard: true })
    const [, ms] = yield* timed(
      Effect.forEach(
        Array.range(0, CONCURRENT - 1),
        (n) => store.append(streams[n % STREAMS]!, { type: "e", data: payload }, { webhook: true }),
        { concurrency: CONCURRENCY, discard: true }
      )
    )
    return (CONCURRENT / ms) * 1000
  })

/** Appends one at a time and measures until each arrives on `reader`'s tail. */
const tailLatency = (writer: Store.Service, reader: Store.Service, streamId: string) =>
  Effect.gen(function* () {
    yield* writer.createStream(streamId, "bench")
    const sentAt: Array<number> = []
    const latencies: Array<number> = []
    const fiber = yield* reader.events(streamId).pipe(
      Stream.take(TAIL),
      Stream.runForEach((event) => Effect.map(nowMs, (t) => void latencies.push(t - sentAt[event.index]!))),
      Effect.fork
    )
    yield* Effect.sleep("200 millis")
    for (let n = 0; n < TAIL; n++) {
      sentAt[n] = yield* nowMs
      yield* writer.append(streamId, { type: "e", data: payload })
      // let the tail catch up, so each measurement is one event's trip
      while (latencies.length <= n) yield* Effect.sleep("1 millis")
    }
    yield* Fiber.join(fiber)
    const sorted = Array.sort(latencies, Order.number)
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
  })

interface Row {
  readonly backend: string
  readonly sequential: number
  readonly concurrent: number
  readonly tail: { readonly p50: number; readonly p99: number }
  readonly crossTail: Option.Option<{ readonly p50: number; readonly p99: number }>
}

const run = (backend: string, open: Effect.Effect<Store.Service, unknown, Scope.Scope>, two: boolean) =>
  Effect.scoped(
    Effect.gen(function* () {
      const store = yield* open
      const sequential = yield* appendSequential(store)
      const concurrent = yield* appendConcurrent(store)
      const tail = yield* tailLatency(store, store, "tail")
      const crossTail = two ? Option.some(yield* tailLatency(store, yield* open, "cross")) : Option.none()
      return { backend, sequential, concurrent, tail, crossTail } satisfies Row
    })
  )

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(10)

const program = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "portal-store-bench-" })
  const rows: Array<Row> = []
  rows.push(
    yield* run("sqlite", Store.makeSqlite({ filename: NodePath.join(dir, "bench.db"), retention: false }), false)
  )

  const external = process.env.PORTAL_TEST_DATABASE_URL
  if ((external !== undefined && external !== "") || PgCluster.binariesAvailable()) {
    const pgRow = yield* Effect.gen(function* () {
      const cluster = yield* PgCluster.PgCluster
      const url = Redacted.make(yield* cluster.createDatabase())
      return yield* run("postgres", Store.makePg({ url, retention: false }), true)
    }).pipe(Effect.provide(PgCluster.layerFrom(external)))
    rows.push(pgRow)
  } else {
    yield* Console.warn("!!! PostgreSQL skipped: no binaries on PATH and PORTAL_TEST_DATABASE_URL unset !!!")
  }

  yield* Console.log(
    [
      "",
      `backend     seq append/s  conc append/s   tail p50 ms   tail p99 ms  2nd-instance p50/p99 ms`,
      ...rows.map(
        (r) =>
          `${r.backend.padEnd(10)}${fmt(r.sequential)}    ${fmt(r.concurrent)}    ${fmt(r.tail.p50, 2)}    ${fmt(r.tail.p99, 2)}    ${Option.match(
            r.crossTail,
            { onNone: () => "         -", onSome: (c) => `${fmt(c.p50, 2)} / ${c.p99.toFixed(2)}` }
          )}`
      ),
      "",
      `seq: ${SEQUENTIAL} appends one at a time; conc: ${CONCURRENT} appends, ${CONCURRENCY} at once over ${STREAMS} streams, with webhook rows; tail: ${TAIL} events`
    ].join("\n")
  )
})

program.pipe(Effect.scoped, Effect.provide(Layer.mergeAll(NodeContext.layer)), NodeRuntime.runMain)
