import * as Envelope from "@portal/api/Envelope"
import { VersionInfo } from "@portal/api/SystemApi"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import * as Schema from "effect/Schema"

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

describe("the daemon process", () => {
  // The daemon runs as users run it: the tsup bundle under plain node.
  beforeAll(() => {
    execFileSync(process.execPath, ["node_modules/tsup/dist/cli-default.js", "--silent"], { cwd: appDir })
  })

  it("listens on PORTAL__INFO__LISTEN_PORT and answers /health and /version, then stops on SIGTERM", async () => {
    const port = await freePort()
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: appDir,
      env: { ...process.env, PORTAL__INFO__LISTEN_PORT: String(port), PORTAL__INFO__LISTEN_HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    try {
      let health: Response | undefined
      for (let attempt = 0; attempt < 150 && health === undefined; attempt++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined)
        if (health === undefined) await new Promise((r) => setTimeout(r, 100))
      }
      assert.isDefined(health)
      assert.strictEqual(await health!.text(), "OK")
      const version = Schema.decodeUnknownSync(Envelope.Success(VersionInfo))(
        await fetch(`http://127.0.0.1:${port}/version`).then((r) => r.json())
      )
      assert.match(version.data.git_commit, /^([0-9a-f]{8}(-dirty)?|unknown)$/)
    } finally {
      child.kill("SIGTERM")
    }
    assert.strictEqual(await exited, 0)
  })
})
