/**
 * Crash durability of the SQLite store: a child process appends (four appends in flight) and prints each
 * acknowledged index; it is killed with SIGKILL mid-way. Reopening the file must show every acknowledged
 * append, indexes 0..n-1 without gaps, and every event intact (its checksum matches). While the child runs, a
 * second process on the same file must be refused (one daemon per SQLite file).
 */
import * as Command from "@effect/platform/Command"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import * as Store from "@portal/store/Store"
import * as Array from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { checksum } from "./crash/checksum.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const appender = fileURLToPath(new URL("./crash/appender.ts", import.meta.url))
const ACKS_BEFORE_KILL = 200

const spawn = (filename: string) =>
  Command.make(process.execPath, "--import", "tsx", appender, filename, "crash").pipe(
    Command.workingDirectory(packageDir)
  )

const text = (stream: Stream.Stream<Uint8Array, unknown>) =>
  Stream.runCollect(Stream.decodeText(stream)).pipe(
    Effect.map((chunks) => Chunk.join(chunks, "")),
    Effect.orElseSucceed(() => "")
  )

describe("SQLite durability", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped(
      "every acknowledged append and transaction survives SIGKILL, nothing is torn or half-done; a second process is refused meanwhile",
      () =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const dir = yield* fs.makeTempDirectoryScoped({ prefix: "portal-store-crash-" })
          const filename = NodePath.join(dir, "portal-rest.db")

          const child = yield* Command.start(spawn(filename))
          const acks: Array<{ readonly index: number; readonly n: number }> = []
          const txAcks: Array<number> = []
          const ready = yield* Deferred.make<void>()
          const enough = yield* Deferred.make<void>()
          const reader = yield* child.stdout.pipe(
            Stream.decodeText(),
            Stream.splitLines,
            Stream.runForEach((line) =>
              Effect.gen(function* () {
                if (line === "ready") yield* Deferred.succeed(ready, undefined)
                const match = /^ack (\d+) (\d+)$/.exec(line)
                if (match !== null) acks.push({ index: Number(match[1]), n: Number(match[2]) })
                const tx = /^txack (\d+)$/.exec(line)
                if (tx !== null) txAcks.push(Number(tx[1]))
                if (acks.length >= ACKS_BEFORE_KILL) yield* Deferred.succeed(enough, undefined)
              })
            ),
            Effect.fork
          )
          const childErrors = yield* text(child.stderr).pipe(Effect.fork)
          yield* Deferred.await(ready).pipe(
            Effect.timeoutFail({
              duration: "30 seconds",
              onTimeout: () => "the appender did not start"
            }),
            Effect.tapError(() => Effect.flatMap(Fiber.join(childErrors), (err) => Effect.logError(err)))
          )

          // a second "daemon" on the same file, while the first one writes
          const second = yield* Command.start(spawn(filename))
          const [secondExit, secondErr] = yield* Effect.all([second.exitCode, text(second.stderr)], {
            concurrency: 2
          }).pipe(Effect.timeout("30 seconds"))
          assert.strictEqual(secondExit, 2)
          assert.include(secondErr, "is in use by another process")

          yield* Deferred.await(enough).pipe(Effect.timeout("30 seconds"))
          yield* child.kill("SIGKILL")
          yield* Fiber.join(reader) // everything it printed before dying
          assert.isAtLeast(acks.length, ACKS_BEFORE_KILL)

          const store = yield* Store.makeSqlite({ filename, retention: false })
          const events = yield* store.readEvents("crash")
          assert.deepStrictEqual(
            events.map((e) => e.index),
            Array.range(0, events.length - 1)
          )
          assert.isAtLeast(events.length, acks.length)
          for (const ack of acks) {
            const event = events[ack.index]
            assert.isDefined(event, `acknowledged index ${ack.index} is missing`)
            assert.strictEqual(event!.data["n"], ack.n)
          }
          for (const event of events) {
            const { n, padding, sum } = event.data
            assert.isTrue(typeof n === "number" && typeof padding === "string", `event ${event.index} is malformed`)
            assert.strictEqual(sum, checksum(Number(n), String(padding)), `event ${event.index} is torn`)
          }
          // every acknowledged transaction is there whole, and no transaction is there in part
          assert.isAbove(txAcks.length, 0)
          const txStreams = yield* store.listStreams({ kind: "crash_tx" })
          const operations = yield* store.listOperations("crash_tx")
          const streamIds = new Set(txStreams.map((info) => info.id))
          const operationIds = new Set(operations.map((op) => op.id))
          for (const k of txAcks) {
            assert.isTrue(streamIds.has(`tx-${k}`), `acknowledged stream tx-${k} is missing`)
            assert.isTrue(operationIds.has(`op-${k}`), `acknowledged operation op-${k} is missing`)
          }
          assert.deepStrictEqual(
            [...streamIds].map((id) => id.slice(3)).toSorted(),
            [...operationIds].map((id) => id.slice(3)).toSorted(),
            "a stream without its operation, or the reverse"
          )
          // the reopened store keeps going where the child stopped
          const next = yield* store.append("crash", { type: "crash", data: {} })
          assert.strictEqual(next.index, events.length)
        }),
      60_000
    )
  })
})
