/**
 * Graceful shutdown of the real daemon process (differences.md §j): on SIGTERM it stops accepting connections,
 * lets an in-flight request finish within `server.shutdown_grace_ms`, closes SSE connections and exits 0; a request
 * that overruns the grace is cut off at its end.
 *
 * The in-flight request is a `POST /key-handshake` sent with `Expect: 100-continue` and no body yet: the `100
 * Continue` proves the daemon has taken the request, and the body is sent only after the signal.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Net from "node:net"
import * as DaemonProcess from "./DaemonProcess.js"
import { token } from "./HttpServerTest.js"

interface Answer {
  readonly status: number
  readonly body: string
}

/** A request that has reached the daemon and waits for its body: `send` it, then `answer` resolves. */
const pendingRequest = (port: number, path: string) =>
  Effect.async<{ readonly send: (body: string) => void; readonly answer: Promise<Answer> }, Error>((resume) => {
    const body = "{}"
    const request = Http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        expect: "100-continue"
      }
    })
    const answer = new Promise<Answer>((resolve, reject) => {
      request.once("response", (response) => {
        let text = ""
        response.on("data", (chunk) => (text += String(chunk)))
        response.once("end", () => resolve({ status: response.statusCode ?? 0, body: text }))
        response.once("error", reject)
      })
      request.once("error", reject)
    })
    answer.catch(() => undefined) // observed by the test through `answer`
    request.once("continue", () => resume(Effect.succeed({ send: (b: string) => request.end(b), answer })))
    request.once("error", (cause) => resume(Effect.fail(cause)))
    request.flushHeaders()
  })

/** An SSE connection to a stream; `closed` resolves when the daemon ends it. */
const sse = (port: number, streamId: string) =>
  Effect.async<{ readonly closed: Promise<void> }, Error>((resume) => {
    const request = Http.get({
      host: "127.0.0.1",
      port,
      path: `/events/${streamId}`,
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }
    })
    request.once("response", (response) => {
      const closed = new Promise<void>((resolve) => {
        response.once("close", () => resolve())
        response.once("error", () => resolve())
      })
      response.once("data", () => resume(Effect.succeed({ closed })))
    })
    request.once("error", (cause) => resume(Effect.fail(cause)))
  })

const startHandshake = (port: number) =>
  Effect.flatMap(pendingRequest(port, "/key-handshake"), (pending) => {
    pending.send("{}")
    return Effect.promise(() => pending.answer)
  })

/** Whether a new TCP connection to the port is refused. */
const refused = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(false))
    })
    socket.once("error", () => resume(Effect.succeed(true)))
  })

const daemon = (
  graceMs: number
): Effect.Effect<DaemonProcess.Running, DaemonProcess.DaemonProcessError, Scope.Scope | DaemonProcess.Entry> =>
  Effect.gen(function* () {
    const main = yield* DaemonProcess.Entry
    return yield* DaemonProcess.start({
      main,
      dataDir: yield* DaemonProcess.dataDir("portal-shutdown-"),
      port: yield* DaemonProcess.freePort,
      env: { PORTAL__SERVER__SHUTDOWN_GRACE_MS: String(graceMs) }
    })
  })

// One bundle for the file; the two tests (each its own daemon process and port) run concurrently.
describe.concurrent("graceful shutdown of the daemon process", () => {
  layer(DaemonProcess.layerEntry, { excludeTestServices: true, timeout: 120_000 })((it) => {
    it.scoped(
      "SIGTERM: no new connections, the in-flight request completes, SSE is closed, exit 0",
      () =>
        Effect.gen(function* () {
          const running = yield* daemon(20_000)
          const open = yield* startHandshake(running.port)
          assert.strictEqual(open.status, 201, open.body)
          const streamId = (JSON.parse(open.body) as { data: { stream_id: string } }).data.stream_id
          const events = yield* sse(running.port, streamId)
          const inFlight = yield* pendingRequest(running.port, "/key-handshake")

          const exit = yield* Effect.fork(running.kill("SIGTERM", "30 seconds"))
          // the listener is closed as the shutdown begins
          yield* Effect.sync(() => running.output().includes("Shutting down")).pipe(
            Effect.repeat({ until: (seen) => seen, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("20 seconds")
          )
          assert.isTrue(yield* refused(running.port), "a new connection was accepted after SIGTERM")
          // the request taken before the signal still completes
          inFlight.send("{}")
          const answer = yield* Effect.promise(() => inFlight.answer)
          assert.strictEqual(answer.status, 201, answer.body)
          assert.match(answer.body, /"url":"portal:\/\//)
          // the open SSE stream is closed (its client would resume with Last-Event-ID) and the process exits 0
          yield* Effect.promise(() => events.closed)
          const exited = yield* exit
          assert.deepStrictEqual(exited, { code: 0, signal: null }, running.output())
        }),
      60_000
    )

    it.scoped(
      "a request still running at the end of server.shutdown_grace_ms is cut off and the process exits 0",
      () =>
        Effect.gen(function* () {
          const running = yield* daemon(300)
          const inFlight = yield* pendingRequest(running.port, "/key-handshake") // its body never comes
          const exited = yield* running.kill("SIGTERM", "20 seconds")
          assert.deepStrictEqual(exited, { code: 0, signal: null }, running.output())
          const outcome = yield* Effect.either(Effect.tryPromise(() => inFlight.answer))
          assert.isTrue(outcome._tag === "Left", "the overrunning request was answered")
        }),
      60_000
    )
  })
})
