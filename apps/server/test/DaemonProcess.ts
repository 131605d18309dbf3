/**
 * The real daemon as a child process, for tests that kill it (SIGKILL mid-flow, SIGTERM with requests in flight):
 * `bundle` builds the tsup bundle users run into a private directory, `start` runs it on a data directory and a
 * port and waits until it answers `/health`, and `DaemonProcess.client` is an `HttpClient` aimed at it (the helpers of
 * `HttpServerTest.ts` — `send`, `sendJson`, `authed` — work with it, the token is `HttpServerTest.token`).
 *
 * Why the harness is built this way (an earlier attempt flaked with ECONNREFUSED right after "Listening"):
 * - Each test file bundles into its own directory under `node_modules/.portal-daemon-test/`: `Main.test.ts` rebuilds
 *   `dist/` with `clean: true`, and a restart that spawned `dist/main.js` while another worker was rewriting it
 *   started a missing or half-written file. (npm dependencies stay external and resolve from `apps/server`.)
 * - Readiness is read from this run's own output and confirmed by a `/health` answer: a harness that keeps one output
 *   buffer across a kill and a restart sees the first run's "Listening" line and talks to a daemon still starting.
 * - The restarted daemon gets the same port (SO_REUSEADDR: a killed listener never blocks it) and dials
 *   `127.0.0.1`, never `localhost` (which may resolve to ::1 first while the daemon listens on IPv4).
 * - Exits are awaited on the process's `exit` event, never guessed with sleeps.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { authed, sendJson, token } from "./HttpServerTest.js"

const appDir = fileURLToPath(new URL("..", import.meta.url))

/** The daemon could not be built, started or stopped as asked; `message` carries its output. */
export class DaemonProcessError extends Data.TaggedError("DaemonProcessError")<{ readonly message: string }> {}

/** How a run ended: its exit code, or the signal that killed it. */
export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** One run of the daemon. */
export interface Running {
  readonly pid: number
  readonly port: number
  readonly dataDir: string
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  /** This run's stdout and stderr, interleaved as received. */
  readonly output: () => string
  /** Resolves when the process has exited. */
  readonly exited: Effect.Effect<Exited>
  /** Sends `signal` and waits for the exit (at most `within`, then SIGKILL and fail). */
  readonly kill: (signal: NodeJS.Signals, within?: Duration.DurationInput) => Effect.Effect<Exited, DaemonProcessError>
  /** An `HttpClient` whose relative URLs go to this run. */
  readonly client: Layer.Layer<HttpClient.HttpClient>
}

/**
 * A free loopback port (the OS picks it; the listener is closed before returning).
 * @category helpers
 */
export const freePort: Effect.Effect<number, DaemonProcessError> = Effect.async<number, DaemonProcessError>(
  (resume) => {
    const server = createServer()
    server.once("error", (cause) =>
      resume(Effect.fail(new DaemonProcessError({ message: `no free port: ${cause.message}` })))
    )
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() =>
        resume(
          typeof address === "object" && address !== null
            ? Effect.succeed(address.port)
            : Effect.fail(new DaemonProcessError({ message: "no port" }))
        )
      )
    })
  }
)

/**
 * A fresh data directory, removed with the scope.
 * @category helpers
 */
export const dataDir = (prefix = "portal-daemon-"): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(NodePath.join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Bundles `src/main.ts` with tsup into a private directory (removed with the scope) and returns the bundle's path.
 * @category constructors
 */
export const bundle: Effect.Effect<string, DaemonProcessError, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const root = NodePath.join(appDir, "node_modules", ".portal-daemon-test")
    mkdirSync(root, { recursive: true })
    return mkdtempSync(NodePath.join(root, "run-"))
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(
  Effect.tap((dir) =>
    Effect.async<void, DaemonProcessError>((resume) => {
      execFile(
        process.execPath,
        ["node_modules/tsup/dist/cli-default.js", "--silent", "--out-dir", dir],
        { cwd: appDir },
        (error, _stdout, stderr) =>
          resume(
            error === null
              ? Effect.void
              : Effect.fail(new DaemonProcessError({ message: `tsup failed: ${error.message}\n${stderr}` }))
          )
      )
    })
  ),
  Effect.map((dir) => NodePath.join(dir, "main.js"))
)

/**
 * The daemon's entry point as source, run through tsx: no build step, for debugging the harness or a test (the tests
 * themselves run `bundle`, as users do).
 * @category constructors
 */
export const source: string = NodePath.join(appDir, "src", "main.ts")

/**
 * What the tests run: `bundle`, or `source` when `PORTAL_TEST_DAEMON=source` (a debugging aid: no build step, and it
 * works while a dependency the bundle needs is not declared yet).
 * @category constructors
 */
export const entry: Effect.Effect<string, DaemonProcessError, Scope.Scope> =
  process.env["PORTAL_TEST_DAEMON"] === "source" ? Effect.succeed(source) : bundle

/**
 * The `entry` built once for a `layer(DaemonProcess.layerEntry)` block, for files whose tests each start a daemon.
 * @category constructors
 */
export class Entry extends Context.Tag("@portal/server/test/DaemonProcess/Entry")<Entry, string>() {}

/** @category constructors */
export const layerEntry: Layer.Layer<Entry, DaemonProcessError> = Layer.scoped(Entry, entry)

/** @category options */
export interface StartOptions {
  /** The bundle from `bundle`, or `source`. */
  readonly main: string
  readonly dataDir: string
  readonly port: number
  /** `PORTAL__…` settings; the API token is `HttpServerTest.token` and the log level `info` unless given here. */
  readonly env?: Readonly<Record<string, string>>
  /** How long to wait for `/health` (default 30 s). */
  readonly readyWithin?: Duration.DurationInput
}

const exitOf = (child: ChildProcess): Exited => ({ code: child.exitCode, signal: child.signalCode })

/**
 * Starts the daemon and waits until it answers `GET /health` with 200; fails (with the run's output) if it exits
 * first or is not ready in time. The scope SIGKILLs it if it is still running.
 * @category constructors
 */
export const start = (options: StartOptions): Effect.Effect<Running, DaemonProcessError, Scope.Scope> =>
  Effect.gen(function* () {
    const done = yield* Deferred.make<Exited>()
    let output = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(
          process.execPath,
          options.main.endsWith(".ts") ? ["--import", "tsx", options.main] : ["--enable-source-maps", options.main],
          {
            cwd: appDir,
            env: {
              PATH: process.env["PATH"] ?? "",
              HOME: options.dataDir,
              PORTAL_DATA_DIR: options.dataDir,
              PORTAL__INFO__LISTEN_HOST: "127.0.0.1",
              PORTAL__INFO__LISTEN_PORT: String(options.port),
              PORTAL__AUTH__AUTH_TOKEN: token,
              // nothing but loopback: a closed local port unless the test gives its relay
              PORTAL__NOSTR__RELAYS: "ws://127.0.0.1:9",
              ...options.env
            },
            stdio: ["ignore", "pipe", "pipe"]
          }
        )
        child.stdout!.on("data", (chunk) => (output += String(chunk)))
        child.stderr!.on("data", (chunk) => (output += String(chunk)))
        child.once("exit", () => Deferred.unsafeDone(done, Effect.succeed(exitOf(child))))
        return child
      }),
      (child) =>
        child.exitCode === null && child.signalCode === null
          ? Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(Deferred.await(done)))
          : Effect.void
    )
    const url = `http://127.0.0.1:${options.port}`
    const client = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, HttpClient.mapRequest(HttpClientRequest.prependUrl(url)))
    ).pipe(Layer.provide(FetchHttpClient.layer))
    const exited = Deferred.await(done)
    const kill = (signal: NodeJS.Signals, within: Duration.DurationInput = "20 seconds") =>
      Effect.sync(() => child.kill(signal)).pipe(
        Effect.zipRight(exited),
        Effect.timeoutFail({
          duration: within,
          onTimeout: () =>
            new DaemonProcessError({
              message: `daemon still running ${Duration.format(within)} after ${signal}:\n${output}`
            })
        }),
        Effect.tapError(() => Effect.sync(() => child.kill("SIGKILL")))
      )
    const health = Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const response = yield* http.get(`${url}/health`).pipe(Effect.timeout("2 seconds"))
      if (response.status !== 200)
        return yield* Effect.fail(new DaemonProcessError({ message: `/health answered ${response.status}` }))
    }).pipe(
      Effect.mapError((e) => new DaemonProcessError({ message: e.message })),
      Effect.provide(FetchHttpClient.layer)
    )
    const ready = health.pipe(
      Effect.retry(Schedule.spaced("100 millis")),
      Effect.raceFirst(
        Effect.flatMap(exited, (e) =>
          Effect.fail(
            new DaemonProcessError({ message: `daemon exited (${e.code ?? e.signal}) before it was ready:\n${output}` })
          )
        )
      ),
      Effect.timeoutFail({
        duration: options.readyWithin ?? "30 seconds",
        onTimeout: () => new DaemonProcessError({ message: `daemon not ready:\n${output}` })
      })
    )
    yield* ready
    return {
      pid: child.pid!,
      port: options.port,
      dataDir: options.dataDir,
      url,
      output: () => output,
      exited,
      kill,
      client
    }
  })

/**
 * Waits until `GET /relays` reports every relay connected (the daemon's subscriptions go out on connect): what a
 * test awaits before a user answers, after a (re)start. 10 s at most.
 * @category helpers
 */
export const relaysConnected: Effect.Effect<void, never, HttpClient.HttpClient> = sendJson(
  HttpClientRequest.get("/relays").pipe(authed)
).pipe(
  Effect.filterOrFail(
    (r) =>
      r.status === 200 &&
      (r.json as { data: { relays: ReadonlyArray<{ status: string }> } }).data.relays.every(
        (relay) => relay.status === "connected"
      ),
    () => new Error("relays not connected")
  ),
  Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 }),
  Effect.asVoid,
  Effect.orDie
)
