import { assert, describe, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cli from "@portal/cli/Cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { portal } from "./CliProcess.js"

/**
 * Every command's help is rendered by the command tree in this process (the same `Cli.run` that `bin.ts` runs, on
 * an argv as node passes it), with stdout and stderr captured from `Console`: one process start per command made
 * this file take 20–40 s. The real `portal` binary still runs for what only the process edge decides: the exit
 * code of `--help` and of an unknown command (usage line, exit 2).
 */
const TIMEOUT = 120_000

/** Runs `portal ...args` in-process; what the command tree printed and whether it failed. */
const portalInProcess = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const err: Array<string> = []
    const base = yield* Effect.console
    const capture: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => void out.push(parts.join(" "))),
      error: (...parts) => Effect.sync(() => void err.push(parts.join(" ")))
    }
    const exit = yield* Cli.run(["node", "portal", ...args]).pipe(
      Effect.withConsole(capture),
      Effect.provide(NodeContext.layer),
      Effect.exit
    )
    return { exit, stdout: out.join("\n"), stderr: err.join("\n") }
  })

const commands = [
  "",
  "keys",
  "keys generate",
  "keys convert",
  "keys from-mnemonic",
  "config",
  "config init",
  "health",
  "version",
  "info",
  "handshake",
  "handshake close",
  "auth",
  "pay",
  "pay single",
  "pay raw",
  "pay recurring",
  "pay close",
  "invoice",
  "invoice request",
  "invoice pay",
  "cashu",
  "cashu request",
  "cashu send",
  "cashu mint",
  "cashu burn",
  "profile",
  "nip05",
  "jwt",
  "jwt issue",
  "jwt verify",
  "relays",
  "relays list",
  "relays add",
  "relays remove",
  "calendar",
  "calendar next",
  "wallet",
  "wallet info",
  "events",
  "user",
  "sandbox"
]

describe("portal --help", () => {
  it.live(
    "every command has help with an example of itself",
    () =>
      Effect.forEach(commands, (command) =>
        Effect.gen(function* () {
          const path = command === "" ? [] : command.split(" ")
          const result = yield* portalInProcess([...path, "--help"])
          assert.isTrue(result.exit._tag === "Success", `${command}: ${result.stderr}`)
          assert.match(result.stdout, /Examples?:/, command)
          assert.include(result.stdout, `portal ${command}`.trim(), command)
        })
      ),
    TIMEOUT
  )

  it.live(
    "the binary exits 0 on --help, and an unknown command gives usage and exits 2",
    () =>
      Effect.gen(function* () {
        const [help, unknown] = yield* Effect.all(
          [portal(["pay", "single", "--help"]), portal(["paymnet", "single"])],
          { concurrency: 2 }
        )
        assert.strictEqual(help.code, 0, help.stderr)
        assert.match(help.stdout, /Examples?:/)
        assert.include(help.stdout, "portal pay single")
        assert.strictEqual(unknown.code, 2)
        assert.include(unknown.stderr, "usage: portal")
      }),
    TIMEOUT
  )
})
