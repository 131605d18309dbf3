/**
 * Daemon benchmarks (`pnpm bench` → `tsx bench/server.ts`). Every part runs in its own process on loopback: the
 * daemon (`src/main.ts` under node + tsx, a fresh data directory, log level warn), a raw `node:http` hello-world, the
 * load generator (`bench/load.ts`), the relay (`bench/relay.ts`) and the user side (`bench/user.ts`). Prints:
 *
 * - HTTP: requests/s of `GET /health`, `GET /info` (bearer token) and `POST /key-handshake` (persisted: a stream, an
 *   operation and a relay listener per request) beside the raw `node:http` hello-world, each measured in three
 *   alternating rounds (best kept; the machine is shared), as `health-vs-node: <ratio>` lines;
 * - the full auth flow (handshake → authenticate → approved, `bench/user.ts`) at 1, 10 and 100 concurrent users:
 *   flows/s, p50 and p99, on a fresh daemon and relay;
 * - the crypto bound: one flow's elliptic-curve work measured alone in this process (4 Schnorr signatures: handshake,
 *   challenge, session JWT, reply; 6 verifications: each of the 3 events by the relay and by its receiver; 2 NIP-44
 *   conversation keys, one per side; 6 NIP-44 encryptions/decryptions with a cached key), turned into flows/s for the
 *   machine's cores, and `auth-flow-vs-crypto-bound: <ratio>` at 100 users.
 *
 * Measurements are noisy on a shared 2-core machine; compare the ratios.
 *
 * Beside each auth-flow level: the CPU time per flow of the daemon, the relay and the user side (from /proc, Linux),
 * which a shared machine disturbs much less than latencies.
 *
 * `--http` runs only the HTTP part, `--auth-flow` only the auth flow and the crypto bound;
 * `PORTAL_BENCH_TARGETS=info,key-handshake` only those HTTP targets (and node); `PORTAL_BENCH_USERS=1,10` only those
 * auth-flow levels. `PORTAL_BENCH_CPU_PROF=<dir>` runs the daemon under `node --cpu-prof` and writes its profile to
 * that directory when the daemon stops (open it in Chrome DevTools or any `.cpuprofile` viewer).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Nip44 from "@portal/nostr/Nip44"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as Net from "node:net"
import { availableParallelism, tmpdir } from "node:os"
import * as NodePath from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const appDir = fileURLToPath(new URL("..", import.meta.url))
const token = "bench-token-0123456789abcdef0123"
const CONNECTIONS = 32
const WARMUP_MS = 1_000
const ROUND_MS = 4_000
const ROUNDS = 3

interface Child {
  readonly process: ChildProcess
  readonly output: () => string
  readonly line: (pattern: RegExp) => Promise<RegExpExecArray>
  readonly stop: () => Promise<void>
}

const children = new Set<Child>()

const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Child => {
  const child = spawn(process.execPath, args, {
    cwd: appDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const waiters: Array<() => void> = []
  const onData = (chunk: unknown) => {
    output += String(chunk)
    for (const waiter of waiters.splice(0)) waiter()
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const line = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output)
        if (match !== null) return resolve(match)
        if (child.exitCode !== null) return reject(new Error(`process exited:\n${output}`))
        waiters.push(check)
      }
      child.once("exit", () => waiters.push(check) && check())
      check()
    })
  const handle: Child = {
    process: child,
    output: () => output,
    line,
    stop: () => {
      children.delete(handle)
      if (child.exitCode === null) child.kill("SIGTERM")
      return exited
    }
  }
  children.add(handle)
  return handle
}

/** A process's parent and CPU ticks (user + system) from `/proc/<pid>/stat`, if it is still there. */
const procStat = (pid: string): { readonly ppid: string; readonly ticks: number } | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    return { ppid: fields[1]!, ticks: Number(fields[11]) + Number(fields[12]) }
  } catch {
    return undefined
  }
}

/** CPU time (ms) a process and its descendants have used so far, from /proc (Linux; 0 elsewhere). */
const cpuMs = (pid: number | undefined): number => {
  if (pid === undefined || !existsSync("/proc/self/stat")) return 0
  const stats = new Map<string, { readonly ppid: string; readonly ticks: number }>()
  for (const id of readdirSync("/proc")) {
    const stat = /^\d+$/.test(id) ? procStat(id) : undefined
    if (stat !== undefined) stats.set(id, stat)
  }
  const tree = new Set([String(pid)])
  let grown = true
  while (grown) {
    grown = false
    for (const [id, stat] of stats) {
      if (!tree.has(id) && tree.has(stat.ppid)) {
        tree.add(id)
        grown = true
      }
    }
  }
  let ticks = 0
  for (const id of tree) ticks += stats.get(id)?.ticks ?? 0
  // clock ticks are 1/100 s on Linux
  return ticks * 10
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

const nodeHello = async () => {
  const child = start([
    "-e",
    `require("node:http").createServer((q, s) => { s.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": 2 }); s.end("OK") }).listen(0, "127.0.0.1", function () { console.log("PORT " + this.address().port) })`
  ])
  const [, port] = await child.line(/PORT (\d+)/)
  return { child, port: Number(port) }
}

const relay = async () => {
  const child = start(["--import", "tsx", "bench/relay.ts"])
  const [, url] = await child.line(/RELAY (ws:\/\/\S+)/)
  return { child, url: url! }
}

const daemon = async (relayUrl: string) => {
  const port = await freePort()
  const dataDir = mkdtempSync(NodePath.join(tmpdir(), "portal-bench-"))
  const profileDir = process.env["PORTAL_BENCH_CPU_PROF"]
  const profile = profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir]
  const child = start([...profile, "--import", "tsx", "src/main.ts"], {
    PORTAL_DATA_DIR: dataDir,
    PORTAL__INFO__LISTEN_HOST: "127.0.0.1",
    PORTAL__INFO__LISTEN_PORT: String(port),
    PORTAL__AUTH__AUTH_TOKEN: token,
    PORTAL__NOSTR__RELAYS: relayUrl,
    PORTAL__LOGGING__FILTER: "warn"
  })
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status === 200,
      () => false
    )
    if (healthy) break
    if (child.process.exitCode !== null) throw new Error(`daemon exited:\n${child.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child,
    port,
    stop: async () => {
      await child.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

interface LoadResult {
  readonly requests: number
  readonly non2xx: number
  readonly errors: number
  readonly rps: number
  readonly p50: number | null
  readonly p99: number | null
}

const load = async (target: {
  readonly port: number
  readonly method: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly durationMs: number
}): Promise<LoadResult> => {
  const child = start(["--import", "tsx", "bench/load.ts", JSON.stringify({ connections: CONNECTIONS, ...target })])
  const [json] = await child.line(/^\{.*\}$/m)
  await child.stop()
  return JSON.parse(json) as LoadResult
}

const fmt = (n: number, digits = 0) => n.toFixed(digits)

const http = async () => {
  const hello = await nodeHello()
  const loop = await relay()
  const served = await daemon(loop.url)
  const authorization = `Bearer ${token}`
  const targets = {
    node: { port: hello.port, method: "GET", path: "/" },
    health: { port: served.port, method: "GET", path: "/health" },
    info: { port: served.port, method: "GET", path: "/info", headers: { authorization } },
    "key-handshake": {
      port: served.port,
      method: "POST",
      path: "/key-handshake",
      headers: { authorization, "content-type": "application/json" },
      body: "{}"
    }
  } as const
  const only = process.env["PORTAL_BENCH_TARGETS"]?.split(",")
  const chosen = Object.entries(targets).filter(
    ([name]) => name === "node" || only === undefined || only.includes(name)
  )
  const best: Record<string, LoadResult> = {}
  for (const [, target] of chosen) await load({ ...target, durationMs: WARMUP_MS })
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, target] of chosen) {
      const result = await load({ ...target, durationMs: ROUND_MS })
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} connection errors`)
      }
      console.log(
        `  round ${round + 1} ${name}: ${fmt(result.rps)} req/s (p50 ${fmt(result.p50 ?? NaN, 2)} ms, p99 ${fmt(result.p99 ?? NaN, 2)} ms)`
      )
      if (best[name] === undefined || result.rps > best[name].rps) best[name] = result
    }
  }
  const node = best["node"]!.rps
  console.log(`node-hello: ${fmt(node)} req/s (raw node:http, ${CONNECTIONS} keep-alive connections)`)
  const measured = ["health", "info", "key-handshake"].filter((name) => best[name] !== undefined)
  for (const name of measured) console.log(`${name}: ${fmt(best[name]!.rps)} req/s`)
  for (const name of measured) console.log(`${name}-vs-node: ${fmt(best[name]!.rps / node, 2)}`)
  await served.stop()
  await loop.child.stop()
  await hello.child.stop()
}

interface FlowResult {
  readonly flows: number
  readonly failures: number
  readonly firstFailure: string | null
  readonly flowsPerSecond: number
  readonly p50: number | null
  readonly p99: number | null
  readonly steps: Record<string, number>
  readonly failedIn: Record<string, number>
}

const authFlow = async () => {
  const results: Record<number, FlowResult> = {}
  const only = process.env["PORTAL_BENCH_USERS"]?.split(",").map(Number)
  const levels = (
    [
      [1, 5_000],
      [10, 8_000],
      [100, 10_000]
    ] as const
  ).filter(([users]) => only === undefined || only.includes(users))
  for (const [users, durationMs] of levels) {
    const loop = await relay()
    const served = await daemon(loop.url)
    const before = { daemon: cpuMs(served.child.process.pid), relay: cpuMs(loop.child.process.pid) }
    const child = start([
      "--import",
      "tsx",
      "bench/user.ts",
      JSON.stringify({ daemon: `http://127.0.0.1:${served.port}`, token, relay: loop.url, users, durationMs })
    ])
    const [json] = await child.line(/^\{.*\}$/m)
    const cpu = {
      daemon: cpuMs(served.child.process.pid) - before.daemon,
      relay: cpuMs(loop.child.process.pid) - before.relay,
      users: cpuMs(child.process.pid)
    }
    await child.stop()
    await served.stop()
    await loop.child.stop()
    const result = JSON.parse(json) as FlowResult
    results[users] = result
    console.log(
      `auth-flow ${users} user(s): ${fmt(result.flowsPerSecond, 1)} flows/s, p50 ${fmt(result.p50 ?? NaN, 1)} ms, ` +
        `p99 ${fmt(result.p99 ?? NaN, 1)} ms (${result.flows} flows, ${result.failures} failed` +
        `${result.firstFailure === null ? "" : `; first: ${result.firstFailure.slice(0, 160)}, failed in ${JSON.stringify(result.failedIn)}`}; mean ms per completed step: ` +
        `${Object.entries(result.steps)
          .map(([step, ms]) => `${step} ${ms}`)
          .join(", ")})`
    )
    const perFlow = (ms: number) => fmt(ms / Math.max(1, result.flows), 1)
    console.log(
      `  CPU per flow: daemon ${perFlow(cpu.daemon)} ms, relay ${perFlow(cpu.relay)} ms, user side ${perFlow(cpu.users)} ms (with its start-up)`
    )
  }
  return results
}

/** One flow's elliptic-curve work measured alone, in ms. */
const cryptoPerFlow = Effect.gen(function* () {
  const N = 200
  const verifier = yield* Event.Verifier
  const keys = yield* Keys.generate
  const peers = yield* Effect.forEach(Array.from({ length: N }), () => Keys.generate)
  const templates = yield* Effect.forEach(Array.from({ length: N }), (_, i) =>
    Event.template({ kind: 27000, content: `challenge payload ${i} `.repeat(8), tags: [["p", keys.publicKey]] })
  )
  const best = <E>(f: () => Effect.Effect<unknown, E>) =>
    Effect.gen(function* () {
      let ms = Number.POSITIVE_INFINITY
      for (let round = 0; round < 3; round++) {
        const t0 = performance.now()
        yield* Effect.orDie(f())
        ms = Math.min(ms, performance.now() - t0)
      }
      return ms / N
    })
  const signed: Array<string> = []
  const sign = yield* best(() =>
    Effect.forEach(templates, (template) =>
      Effect.map(Event.signWith(keys, template), (event) => signed.push(JSON.stringify(event)))
    )
  )
  const verify = yield* best(() =>
    Effect.forEach(signed.slice(0, N), (text) =>
      Either.isLeft(verifier.decodeEither(JSON.parse(text))) ? Effect.dieMessage("invalid") : Effect.void
    )
  )
  const plaintext = "x".repeat(400)
  const cached = yield* Nip44.makeKeyCache(keys.secretKey)
  const payloads = yield* Effect.forEach(peers, (peer) => cached.encrypt(peer.publicKey, plaintext))
  const symmetric = yield* best(() => Effect.forEach(peers, (peer) => cached.encrypt(peer.publicKey, plaintext)))
  const peerCaches = yield* Effect.forEach(peers, (peer) => Nip44.makeKeyCache(peer.secretKey))
  const decrypt = yield* best(() =>
    Effect.forEach(peerCaches, (cache, i) => cache.decrypt(keys.publicKey, payloads[i]!))
  )
  // a conversation key: a fresh cache's first encryption minus a cached one
  const fresh = yield* best(() =>
    Effect.forEach(peers, (peer) =>
      Effect.flatMap(Nip44.makeKeyCache(keys.secretKey), (cache) => cache.encrypt(peer.publicKey, plaintext))
    )
  )
  const conversationKey = Math.max(0, fresh - symmetric)
  const nip44 = (symmetric + decrypt) / 2
  const total = 4 * sign + 6 * verify + 2 * conversationKey + 6 * nip44
  console.log(
    `crypto per flow: ${fmt(total, 2)} ms = 4 × sign ${fmt(sign, 3)} + 6 × verify ${fmt(verify, 3)} + ` +
      `2 × NIP-44 conversation key ${fmt(conversationKey, 3)} + 6 × NIP-44 op ${fmt(nip44, 3)} (verifier: ${verifier.backend})`
  )
  return total
}).pipe(Effect.provide(Event.layerVerifier))

const main = Effect.gen(function* () {
  if (!process.argv.includes("--auth-flow")) {
    console.log("daemon HTTP (requests/s on loopback, load generator in its own process):")
    yield* Effect.promise(http)
  }
  if (process.argv.includes("--http")) return
  console.log("auth flow (daemon, relay and user side in separate processes):")
  const flows = yield* Effect.promise(authFlow)
  const perFlowMs = yield* cryptoPerFlow
  const cores = availableParallelism()
  const bound = (cores * 1000) / perFlowMs
  console.log(`crypto-bound: ${fmt(bound, 1)} flows/s (${cores} cores)`)
  if (flows[100] !== undefined) console.log(`auth-flow-vs-crypto-bound: ${fmt(flows[100].flowsPerSecond / bound, 2)}`)
}).pipe(Effect.ensuring(Effect.promise(() => Promise.all([...children].map((child) => child.stop())))), Effect.scoped)

NodeRuntime.runMain(main)
