/**
 * The user side of the auth-flow benchmark, run as its own process (`bench/server.ts` starts it): `users` users
 * (`@portal/user`, each with its own key and relay connection, as separate apps are, approving every challenge), each
 * running full flows back to back for `durationMs`:
 *
 *   POST /key-handshake → the user sends the handshake → the `key_handshake` event (SSE) → POST /authenticate-key →
 *   the user approves → the `authenticate_key` event with status `approved` (SSE).
 *
 * Real users are separate apps on separate machines; one process holding 100 of them would measure its own event
 * loop. Beyond 50 users the users are spread over worker processes (this file again, at most 50 users and at most 2
 * processes): each prepares its users and reports `READY`; all start together on `GO` and report their latencies.
 *
 * Prints one JSON line: completed flows, failures, elapsed time and the flow latency percentiles.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import * as Http from "node:http"
import { fileURLToPath } from "node:url"
import { performance } from "node:perf_hooks"

interface Config {
  readonly daemon: string
  readonly token: string
  readonly relay: string
  readonly users: number
  readonly durationMs: number
  /** Set in worker processes. */
  readonly worker?: boolean
}

const USERS_PER_PROCESS = 50
const MAX_PROCESSES = 2

const config = JSON.parse(process.argv[2] ?? "{}") as Config
const daemon = new URL(config.daemon)

class FlowFailed extends Data.TaggedError("FlowFailed")<{ readonly message: string }> {}

/** POST with a JSON body; the parsed `data` of a 201. */
const post = (path: string, body: unknown) =>
  Effect.async<{ readonly stream_id: string; readonly url?: string }, FlowFailed>((resume) => {
    const text = JSON.stringify(body)
    const request = Http.request(
      {
        host: daemon.hostname,
        port: daemon.port,
        path,
        method: "POST",
        // a connection per request: a reused keep-alive socket that the server is closing fails a POST
        agent: false,
        headers: {
          authorization: `Bearer ${config.token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text)
        }
      },
      (response) => {
        let answer = ""
        response.on("data", (chunk) => (answer += String(chunk)))
        response.on("end", () =>
          response.statusCode === 201
            ? resume(Effect.succeed((JSON.parse(answer) as { data: { stream_id: string; url?: string } }).data))
            : resume(Effect.fail(new FlowFailed({ message: `${path}: ${response.statusCode} ${answer}` })))
        )
      }
    )
    request.on("error", (cause) => resume(Effect.fail(new FlowFailed({ message: cause.message }))))
    request.end(text)
  })

/** The first event of a stream, over SSE. */
const firstEvent = (streamId: string) =>
  Effect.async<Record<string, unknown>, FlowFailed>((resume) => {
    const request = Http.get(
      {
        host: daemon.hostname,
        port: daemon.port,
        path: `/events/${streamId}`,
        agent: false,
        headers: { authorization: `Bearer ${config.token}`, accept: "text/event-stream" }
      },
      (response) => {
        let text = ""
        response.on("data", (chunk) => {
          text += String(chunk)
          const line = text.split("\n").find((l) => l.startsWith("data: "))
          if (line === undefined) return
          resume(Effect.succeed(JSON.parse(line.slice(6)) as Record<string, unknown>))
          request.destroy()
        })
      }
    )
    request.on("error", (cause) => resume(Effect.fail(new FlowFailed({ message: cause.message }))))
    return Effect.sync(() => request.destroy())
  })

/** Time spent in each step of the flows, summed (ms). */
const steps = { handshakePost: 0, handshakeEvent: 0, authPost: 0, authEvent: 0 }
/** How many flows failed or timed out in each step. */
const failedIn: Record<string, number> = {}
const completed = { handshakePost: 0, handshakeEvent: 0, authPost: 0, authEvent: 0 }

const timed = <A, E>(step: keyof typeof steps, effect: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    const t0 = performance.now()
    return effect.pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          if (exit._tag === "Success") {
            steps[step] += performance.now() - t0
            completed[step]++
          } else failedIn[step] = (failedIn[step] ?? 0) + 1
        })
      )
    )
  })

const flow = (user: User.Service, publicKey: string) =>
  Effect.gen(function* () {
    const handshake = yield* timed("handshakePost", post("/key-handshake", {}))
    const [shake] = yield* timed(
      "handshakeEvent",
      Effect.all([firstEvent(handshake.stream_id), user.handshake(handshake.url!)], { concurrency: 2 })
    )
    if (shake["type"] !== "key_handshake") return yield* Effect.fail(new FlowFailed({ message: JSON.stringify(shake) }))
    const auth = yield* timed("authPost", post("/authenticate-key", { main_key: publicKey, subkeys: [] }))
    const answer = yield* timed("authEvent", firstEvent(auth.stream_id))
    const status = (answer["status"] as { status?: string } | undefined)?.status
    if (answer["type"] !== "authenticate_key" || status !== "approved") {
      return yield* Effect.fail(new FlowFailed({ message: JSON.stringify(answer) }))
    }
  }).pipe(Effect.timeout("30 seconds"))

const program = Effect.gen(function* () {
  const users = yield* Effect.forEach(
    Array.from({ length: config.users }),
    () =>
      Effect.gen(function* () {
        const keys = yield* Keys.generate
        const context = yield* Layer.build(
          User.layerLocal({
            secretKey: Redacted.make(Buffer.from(Redacted.value(keys.secretKey)).toString("hex")),
            subscribeWait: "1 second"
          }).pipe(Layer.provideMerge(RelayPool.layerNode({ relays: [config.relay] })))
        )
        yield* Context.get(context, RelayPool.RelayPool).awaitOpen().pipe(Effect.timeout("10 seconds"))
        const user = Context.get(context, User.User)
        yield* user.listen({ auth: Auth.approveAll })
        return { user, publicKey: keys.publicKey }
      }),
    { concurrency: 10 }
  )
  // the users' REQs reach the relay before the first challenge (challenges are ephemeral: a user whose REQ the relay
  // has not registered yet misses it); User.listen does not expose its EOSE, so a margin that grows with the count
  yield* Effect.sleep(`${500 + 25 * config.users} millis`)
  if (config.worker === true) {
    console.log("READY")
    yield* Effect.promise(
      () =>
        new Promise<void>((resolve) =>
          process.stdin.once("data", () => {
            // nothing else may keep this process alive once its users are done (it exits by itself)
            process.stdin.destroy()
            resolve()
          })
        )
    )
  }
  const latencies: Array<number> = []
  let failures = 0
  let firstFailure: string | undefined
  const started = performance.now()
  const deadline = started + config.durationMs
  yield* Effect.forEach(
    users,
    ({ publicKey, user }) =>
      Effect.gen(function* () {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          const outcome = yield* Effect.either(flow(user, publicKey))
          if (outcome._tag === "Right") latencies.push(performance.now() - t0)
          else {
            failures++
            firstFailure ??= String(outcome.left)
          }
        }
      }),
    { concurrency: "unbounded", discard: true }
  )
  const elapsed = performance.now() - started
  latencies.sort((a, b) => a - b)
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null
  if (config.worker === true) {
    console.log(
      JSON.stringify({
        latencies,
        failures,
        firstFailure: firstFailure ?? null,
        elapsedMs: elapsed,
        steps,
        completed,
        failedIn
      })
    )
    return
  }
  console.log(
    JSON.stringify({
      flows: latencies.length,
      failures,
      firstFailure: firstFailure ?? null,
      elapsedMs: elapsed,
      flowsPerSecond: (latencies.length / elapsed) * 1000,
      p50: percentile(50),
      p99: percentile(99),
      failedIn,
      /** mean ms per completed step */
      steps: Object.fromEntries(
        Object.entries(steps).map(([step, ms]) => [
          step,
          Math.round(ms / Math.max(1, completed[step as keyof typeof completed]))
        ])
      )
    })
  )
})

interface WorkerResult {
  readonly latencies: Array<number>
  readonly failures: number
  readonly firstFailure: string | null
  readonly elapsedMs: number
  readonly steps: typeof steps
  readonly completed: typeof completed
  readonly failedIn: Record<string, number>
}

/** Spreads the users over worker processes, starts them together, merges their results into one line. */
const coordinate = Effect.promise(async () => {
  const count = Math.min(MAX_PROCESSES, Math.ceil(config.users / USERS_PER_PROCESS))
  const shares = Array.from(
    { length: count },
    (_, i) => Math.floor(config.users / count) + (i < config.users % count ? 1 : 0)
  )
  const workers = shares.map((users) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify({ ...config, users, worker: true })],
      { stdio: ["pipe", "pipe", "inherit"] }
    )
    let output = ""
    const lines: Array<() => void> = []
    child.stdout.on("data", (chunk) => {
      output += String(chunk)
      for (const waiter of lines.splice(0)) waiter()
    })
    const line = (pattern: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output)
          if (match !== null) return resolve(match[0])
          if (child.exitCode !== null) return reject(new Error(`user worker exited:\n${output}`))
          lines.push(check)
        }
        child.once("exit", check)
        check()
      })
    return { child, line }
  })
  try {
    await Promise.all(workers.map((worker) => worker.line(/^READY$/m)))
    for (const worker of workers) worker.child.stdin.write("GO\n")
    const results = await Promise.all(
      workers.map(async (worker) => JSON.parse(await worker.line(/^\{.*\}$/m)) as WorkerResult)
    )
    const latencies = results.flatMap((result) => result.latencies)
    latencies.sort((a, b) => a - b)
    const elapsed = Math.max(...results.map((result) => result.elapsedMs))
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null
    const sum = (pick: (result: WorkerResult) => Record<string, number>) => {
      const total: Record<string, number> = {}
      for (const result of results) {
        for (const [key, value] of Object.entries(pick(result))) total[key] = (total[key] ?? 0) + value
      }
      return total
    }
    const stepTotals = sum((result) => result.steps)
    const completedTotals = sum((result) => result.completed)
    console.log(
      JSON.stringify({
        flows: latencies.length,
        failures: results.reduce((n, result) => n + result.failures, 0),
        firstFailure: results.find((result) => result.firstFailure !== null)?.firstFailure ?? null,
        elapsedMs: elapsed,
        flowsPerSecond: (latencies.length / elapsed) * 1000,
        p50: percentile(50),
        p99: percentile(99),
        failedIn: sum((result) => result.failedIn),
        processes: count,
        steps: Object.fromEntries(
          Object.entries(stepTotals).map(([step, ms]) => [
            step,
            Math.round(ms / Math.max(1, completedTotals[step] ?? 0))
          ])
        )
      })
    )
  } finally {
    // a worker that is still running was interrupted: SIGKILL, as its runtime would wait for its flows
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill("SIGKILL")
  }
})

;(config.worker !== true && config.users > USERS_PER_PROCESS ? coordinate : program.pipe(Effect.scoped)).pipe(
  NodeRuntime.runMain
)
