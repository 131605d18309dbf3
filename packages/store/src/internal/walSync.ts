/**
 * Durable SQLite commits without blocking the event loop.
 *
 * With `synchronous=FULL` in WAL mode SQLite `fsync`s the WAL inside every `COMMIT`, and better-sqlite3 runs that
 * on the event loop: every commit stalls the whole daemon for the disk's flush (milliseconds). `FULL` is exactly
 * `NORMAL` plus that per-commit `fsync` of the WAL (checkpoints are synced in both), so the store runs SQLite with
 * `NORMAL` and flushes the WAL itself, on libuv's thread pool, before it answers the writers: an acknowledged write
 * is on disk as before, and other work runs during the flush.
 *
 * Concurrent writers share flushes (`coalesce`): a writer waits for a flush that started after its commit, so at
 * most one flush runs and one more is queued, whatever the number of writers.
 */
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs/promises"

/**
 * Shares `flush` between concurrent callers: each returned promise settles with a run of `flush` that began after
 * the call (so it covers everything the caller did before calling).
 */
export const coalesce = (flush: () => Promise<void>): (() => Promise<void>) => {
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  const start = (): Promise<void> => {
    const run = flush()
    running = run.then(
      () => {
        running = undefined
      },
      () => {
        running = undefined
      }
    )
    return run
  }
  return () => {
    if (running === undefined) return start()
    if (queued === undefined) {
      // callers arriving while a flush runs share the next one, started when the current one ends
      queued = running.then(() => {
        queued = undefined
        return start()
      })
    }
    return queued
  }
}

/** The file for reading and writing, or `undefined` when it does not exist. */
const openIfExists = (path: string) =>
  NodeFs.open(path, "r+").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined
    throw error
  })

/**
 * Flushes the WAL file at `walPath` (`<database>-wal`) to disk, shared between concurrent callers; the file is
 * opened on first use and closed with the scope. A missing WAL (nothing written yet) needs no flush.
 */
export const make = (walPath: string): Effect.Effect<Effect.Effect<void, SqlError>, never, Scope.Scope> =>
  Effect.gen(function* () {
    let handle: Promise<NodeFs.FileHandle | undefined> | undefined
    const flush = coalesce(async () => {
      handle ??= openIfExists(walPath)
      const file = await handle.catch((error) => {
        handle = undefined
        throw error
      })
      if (file === undefined) {
        handle = undefined
        return
      }
      await file.sync()
    })
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        const file = await handle?.catch(() => undefined)
        await file?.close().catch(() => undefined)
      })
    )
    return Effect.tryPromise({
      try: flush,
      catch: (cause) => new SqlError({ cause, message: `Failed to flush the WAL to disk (${walPath})` })
    })
  })
