import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { portal } from "./CliProcess.js"

/** Generous: every step is a process start on a machine that may be running the whole suite. */
const TIMEOUT = 180_000

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
    "every command has help with an example of itself, and unknown commands give usage and exit 2",
    () =>
      Effect.gen(function* () {
        yield* Effect.forEach(
          commands,
          (command) =>
            Effect.gen(function* () {
              const path = command === "" ? [] : command.split(" ")
              const result = yield* portal([...path, "--help"])
              assert.strictEqual(result.code, 0, `${command}: ${result.stderr}`)
              assert.match(result.stdout, /Examples?:/, command)
              assert.include(result.stdout, `portal ${command}`.trim(), command)
            }),
          { concurrency: 4, discard: true }
        )
        const unknown = yield* portal(["paymnet", "single"])
        assert.strictEqual(unknown.code, 2)
        assert.include(unknown.stderr, "usage: portal")
      }),
    TIMEOUT
  )
})
