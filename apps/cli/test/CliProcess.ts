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
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
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
