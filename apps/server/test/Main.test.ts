import * as Envelope from "@portal/api/Envelope"
import { VersionInfo } from "@portal/api/SystemApi"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

const appDir = fileURLToPath(new URL("..", import.meta.url))

/** Runs the bundled daemon with the given env (on a fresh data dir) and collects its output. */
const startDaemon = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: appDir,
    env: {
      ...process.env,
      PORTAL_DATA_DIR: mkdtempSync(join(tmpdir(), "portal-main-")),
      // tests reach nothing but loopback: a closed local port instead of the default public relays
      PORTAL__NOSTR__RELAYS: "ws://127.0.0.1:9",
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += String(chunk)))
  child.stderr.on("data", (chunk) => (output += String(chunk)))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  return { child, exited, output: () => output }
}

const waitForHealth = async (port: number, deadlineMs: number) => {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }).catch(
      () => undefined
    )
    // 503 "Server is starting" until the routes are attached
    if (response !== undefined && response.status === 200) return response
    await new Promise((r) => setTimeout(r, 100))
  }
  return undefined
}

describe("the daemon process", () => {
  // The daemon runs as users run it: the tsup bundle under plain node.
  beforeAll(() => {
    execFileSync(process.execPath, ["node_modules/tsup/dist/cli-default.js", "--silent"], { cwd: appDir })
  })

  it("listens on PORTAL__INFO__LISTEN_PORT, answers /health and /version, and exits 0 on SIGTERM", async () => {
    const port = await freePort()
    const daemon = startDaemon({ PORTAL__INFO__LISTEN_PORT: String(port), PORTAL__INFO__LISTEN_HOST: "127.0.0.1" })
    try {
      const health = await waitForHealth(port, 30_000)
      assert.isDefined(health, `daemon never became healthy; output:\n${daemon.output()}`)
      assert.strictEqual(await health!.text(), "OK")
      const version = Schema.decodeUnknownSync(Envelope.Success(VersionInfo))(
        await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.json())
      )
      assert.match(version.data.git_commit, /^([0-9a-f]{8}(-dirty)?|unknown)$/)
      assert.include(daemon.output(), "Generated API token and stored it in")
    } finally {
      daemon.child.kill("SIGTERM")
    }
    const code = await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r("still running"), 15_000))])
    if (code === "still running") daemon.child.kill("SIGKILL")
    assert.strictEqual(code, 0, daemon.output())
  })

  it("stops with one clear line and exit 1 on a malformed setting", async () => {
    const daemon = startDaemon({ PORTAL__INFO__LISTEN_PORT: "not-a-port" })
    const code = await Promise.race([daemon.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))])
    if (code === "still running") daemon.child.kill("SIGKILL")
    assert.strictEqual(code, 1, daemon.output())
    const lines = daemon.output().trim().split("\n")
    assert.lengthOf(lines, 1, daemon.output())
    assert.match(lines[0]!, /^Invalid configuration: info\.listen_port \(PORTAL__INFO__LISTEN_PORT\): /)
  })
})
