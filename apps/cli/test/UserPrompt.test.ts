/**
 * The interactive user side through a real pseudo-terminal: `portal user` runs inside a tmux session (its own
 * server socket), the test reads the screen with `capture-pane` and answers the prompt with `send-keys`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { binPath, jsonLines, portal, sandbox } from "./CliProcess.js"

/** Generous: every step is a process start on a machine that may be running the whole suite. */
const TIMEOUT = 180_000

const tmux = (socket: string, ...args: ReadonlyArray<string>) =>
  Effect.sync(() => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" }))

/** Waits until the pane of session `target` shows `text` (40 s at most). */
const screenShows = (socket: string, text: string | RegExp, target = "user") =>
  tmux(socket, "capture-pane", "-p", "-t", target).pipe(
    Effect.filterOrFail(
      (screen) => (typeof text === "string" ? screen.includes(text) : text.test(screen)),
      (screen) => new Error(`the terminal never showed ${JSON.stringify(text)}; it shows:\n${screen}`)
    ),
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 400 }),
    Effect.orDie
  )

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

describe("portal user, interactive", () => {
  it.scopedLive(
    "shows who asks for what (a login, a payment) and sends the answer typed at the prompt; the service side shows a spinner",
    () =>
      Effect.gen(function* () {
        const { env } = yield* sandbox
        const keyFile = join(mkdtempSync(join(tmpdir(), "portal-cli-tty-")), "user.nsec")
        const key = jsonLines((yield* portal(["keys", "generate", "--json", "--out", keyFile])).stdout)[0]
        const handshake = jsonLines((yield* portal(["handshake", "--json", "--no-wait"], { env })).stdout)[0]
        const daemon = jsonLines((yield* portal(["info", "--json"], { env })).stdout)[0]

        const socket = `portal-cli-test-${randomBytes(4).toString("hex")}`
        yield* Effect.acquireRelease(
          tmux(
            socket,
            "new-session",
            "-d",
            "-s",
            "user",
            "-x",
            "160",
            "-y",
            "40",
            `${quote(process.execPath)} ${quote(binPath)} user ${quote(handshake.url)} --key-file ${quote(keyFile)} ` +
              `--max-requests 2; echo "exit=$?"; sleep 60`
          ),
          () => tmux(socket, "kill-server").pipe(Effect.ignore)
        )
        yield* screenShows(socket, "handshake sent")

        // the service side in a terminal too: a spinner with the elapsed time and the last status while it waits
        const envPrefix = Object.entries(env)
          .map(([k, v]) => `${k}=${quote(v)}`)
          .join(" ")
        /** `portal <args>` as the service, in its own terminal ("service"); it prints `exit=<code>` when done. */
        const service = (args: string) =>
          tmux(
            socket,
            "new-session",
            "-d",
            "-s",
            "service",
            "-x",
            "160",
            "-y",
            "20",
            `${envPrefix} ${quote(process.execPath)} ${quote(binPath)} ${args}; echo "exit=$?"; sleep 60`
          )
        yield* service(`auth ${key.public_key}`)
        yield* screenShows(socket, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \d+\.\ds {2}waiting for the first event/, "service")
        yield* screenShows(socket, "Login request from npub1")
        const screen = yield* tmux(socket, "capture-pane", "-p", "-t", "user")
        assert.include(
          screen,
          `Login request from ${(yield* portal(["keys", "convert", daemon.public_key, "--json"])).stdout.match(/npub1[0-9a-z]+/)![0]}`
        )
        yield* tmux(socket, "send-keys", "-t", "user", "y")
        yield* tmux(socket, "send-keys", "-t", "user", "Enter")

        yield* screenShows(socket, `approved by ${key.public_key}`, "service")
        yield* screenShows(socket, "exit=0", "service")
        yield* screenShows(socket, "approved login request from")

        // a payment request: the prompt shows the amount and what for; "n" rejects it and the service exits 1
        yield* tmux(socket, "kill-session", "-t", "service")
        yield* service(`pay single ${key.public_key} --amount 5000 --description Tea`)
        yield* screenShows(socket, 'Payment request: 5000 msat for "Tea" from npub1')
        yield* tmux(socket, "send-keys", "-t", "user", "n")
        yield* tmux(socket, "send-keys", "-t", "user", "Enter")
        yield* screenShows(socket, "rejected by the user: User rejected", "service")
        yield* screenShows(socket, "exit=1", "service")
        yield* screenShows(socket, "rejected payment of 5000 msat")
        yield* screenShows(socket, "exit=0")
      }),
    TIMEOUT
  )
})
