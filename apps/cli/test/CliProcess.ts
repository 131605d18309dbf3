/**
 * Runs the `portal` binary as a subprocess, as users run it: the bundle dist/bin.js that test/globalSetup.ts builds.
 */
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const appDir = fileURLToPath(new URL("..", import.meta.url))
export const binPath = fileURLToPath(new URL("../dist/bin.js", import.meta.url))

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `portal ...args` to completion (killed after `timeoutMs`). */
export const portal = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly input?: string; readonly timeoutMs?: number } = {}
): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: appDir,
      env: { ...process.env, PORTAL_URL: "", PORTAL_TOKEN: "", NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000)
    child.once("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    child.stdin.end(options.input ?? "")
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Each non-empty stdout line parsed as JSON. */
export const jsonLines = (stdout: string): ReadonlyArray<any> =>
  stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line))

/** A long-running `portal` process whose output lines can be awaited. */
export interface Running {
  /** The first stdout line (from the start) matching `predicate`, within `timeoutMs`. */
  readonly line: (predicate: (line: string) => boolean, timeoutMs?: number) => Effect.Effect<string>
  readonly stdout: () => string
  readonly stderr: () => string
  readonly signal: (signal: NodeJS.Signals) => Effect.Effect<void>
  /** The exit code (null when killed by a signal). */
  readonly exited: Effect.Effect<number | null>
}

/** Starts `portal ...args` for the scope (SIGKILLed when the scope closes, if still running). */
export const start = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string> } = {}
): Effect.Effect<Running, never, import("effect/Scope").Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [binPath, ...args], {
        cwd: appDir,
        env: { ...process.env, PORTAL_URL: "", PORTAL_TOKEN: "", NO_COLOR: "1", ...options.env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      const waiters = new Set<() => void>()
      const wake = () => waiters.forEach((w) => w())
      child.stdout.on("data", (chunk) => {
        stdout += String(chunk)
        wake()
      })
      child.stderr.on("data", (chunk) => (stderr += String(chunk)))
      let exitCode: number | null | undefined
      child.once("close", (code) => {
        exitCode = code
        wake()
      })
      const complete = () => stdout.split("\n").slice(0, -1)
      const running: Running = {
        stdout: () => stdout,
        stderr: () => stderr,
        line: (predicate, timeoutMs = 60_000) =>
          Effect.async<string>((resume) => {
            const check = () => {
              const found = complete().find(predicate)
              if (found !== undefined) {
                cleanup()
                resume(Effect.succeed(found))
              } else if (exitCode !== undefined) {
                cleanup()
                resume(
                  Effect.dieMessage(
                    `portal ${args.join(" ")} exited ${exitCode}; stdout:\n${stdout}\nstderr:\n${stderr}`
                  )
                )
              }
            }
            const timer = setTimeout(() => {
              cleanup()
              resume(
                Effect.dieMessage(
                  `no matching line from portal ${args.join(" ")}; stdout:\n${stdout}\nstderr:\n${stderr}`
                )
              )
            }, timeoutMs)
            const cleanup = () => {
              clearTimeout(timer)
              waiters.delete(check)
            }
            waiters.add(check)
            check()
            return Effect.sync(cleanup)
          }),
        signal: (signal) => Effect.sync(() => void child.kill(signal)),
        exited: Effect.async<number | null>((resume) => {
          if (exitCode !== undefined) return resume(Effect.succeed(exitCode))
          child.once("close", (code) => resume(Effect.succeed(code)))
        })
      }
      return { child, running }
    }),
    ({ child }) =>
      Effect.sync(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGKILL")))
  ).pipe(Effect.map(({ running }) => running))

/** A sandbox process for the scope and the env that points commands at it. */
export const sandbox = Effect.gen(function* () {
  const process = yield* start(["sandbox", "--json"])
  const info = JSON.parse(yield* process.line((l) => l.startsWith("{"), 60_000)) as {
    url: string
    token: string
    relay_url: string
    user_nwc_url: string
    mint_url: string
    mint_static_auth: string
    data_dir: string
  }
  return { process, info, env: { PORTAL_URL: info.url, PORTAL_TOKEN: info.token } }
})
