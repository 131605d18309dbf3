/**
 * Child process of the durability test: appends to one stream of a SQLite store forever, four appends in
 * flight at a time, and prints `ack <index> <n>` after each append is acknowledged; meanwhile two transactions at a
 * time each store a stream `tx-<k>` and its operation `op-<k>` (group-committed with the appends), printing
 * `txack <k>` once acknowledged. The test kills it with
 * SIGKILL. Each event carries a checksum of its padding, so a torn write would show.
 *
 *   node --import tsx test/crash/appender.ts <file> <stream id>
 *
 * When the store cannot be opened it prints `open-failed <message>` on stderr and exits with 2.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Store from "@portal/store/Store"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { checksum } from "./checksum.js"

const [filename, streamId] = process.argv.slice(2)
let next = 0

const program = Effect.gen(function* () {
  const store = yield* Store.makeSqlite({ filename: filename!, retention: false, busyTimeout: "100 millis" }).pipe(
    Effect.tapError((error) =>
      Effect.sync(() => {
        process.stderr.write(`open-failed ${error.message}\n`)
        process.exitCode = 2
      })
    )
  )
  yield* store.reopenStream(streamId!, "crash_test")
  process.stdout.write("ready\n")
  const appendOne = Effect.suspend(() => {
    const n = next++
    const padding = "x".repeat(500 + (n % 1500))
    return store.append(streamId!, { type: "crash", data: { n, padding, sum: checksum(n, padding) } })
  }).pipe(
    Effect.tap((event) => Effect.sync(() => void process.stdout.write(`ack ${event.index} ${event.data["n"]}\n`)))
  )
  let nextTx = 0
  const transactOne = Effect.suspend(() => {
    const k = nextTx++
    return store.transaction(
      Effect.zipRight(
        store.createStream(`tx-${k}`, "crash_tx"),
        store.putOperation({ kind: "crash_tx", id: `op-${k}`, streamId: `tx-${k}`, payload: { k } })
      )
    )
  }).pipe(Effect.tap((op) => Effect.sync(() => void process.stdout.write(`txack ${op.id.slice(3)}\n`))))
  yield* Effect.all(
    [
      ...[appendOne, appendOne, appendOne, appendOne].map(Effect.forever),
      ...[transactOne, transactOne].map(Effect.forever)
    ],
    { concurrency: "unbounded" }
  )
}).pipe(Effect.scoped)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) ? 0 : typeof process.exitCode === "number" ? process.exitCode : 1)
})
