/**
 * The service-side commands as a user runs them: `portal …` subprocesses against a `portal sandbox` subprocess
 * (real relay, simulated Lightning over NWC, the daemon on SQLite), and `portal user` as the wallet.
 *
 * The three flows share one sandbox (each with its own user keys, streams and tokens) and every test runs
 * concurrently: the file's time is process start-ups and waits, one after the other it took a minute.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { existsSync, mkdtempSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { jsonLines, portal, sandbox, start } from "./CliProcess.js"

/** Generous: every step is a process start on a machine that may be running the whole suite. */
const TIMEOUT = 180_000

const closedPort = Effect.async<number>((resume) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    server.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 1)))
  })
})

/** One `portal sandbox` for the tests that only add their own users, streams and tokens to it. */
class SharedSandbox extends Context.Tag("cli/test/SharedSandbox")<
  SharedSandbox,
  Effect.Effect.Success<typeof sandbox>
>() {}

describe.concurrent("portal against a sandbox", () => {
  layer(Layer.scoped(SharedSandbox, sandbox), { excludeTestServices: true, timeout: TIMEOUT })((it) => {
    it.scoped(
      "handshake prints the key of the user who opened the URL; `portal user` approves the login and pays",
      () =>
        Effect.gen(function* () {
          const { env, info: sandboxInfo } = yield* SharedSandbox
          const keyFile = join(mkdtempSync(join(tmpdir(), "portal-cli-user-")), "user.nsec")
          const generated = jsonLines((yield* portal(["keys", "generate", "--json", "--out", keyFile])).stdout)[0]

          const handshake = yield* start(["handshake", "--json"], { env })
          const started = JSON.parse(yield* handshake.line((l) => l.includes('"url"')))
          assert.match(started.url, /^portal:\/\/npub1/)

          const user = yield* start(
            ["user", started.url, "--key-file", keyFile, "--approve-all", "--max-requests", "2", "--json"],
            { env: { PORTAL_USER_NWC_URL: sandboxInfo.user_nwc_url } }
          )
          const arrived = JSON.parse(yield* handshake.line((l) => l.includes('"key_handshake"')))
          assert.strictEqual(arrived.main_key, generated.public_key)
          assert.strictEqual(yield* handshake.exited, 0)

          const auth = yield* portal(["auth", generated.npub, "--json"], { env })
          assert.strictEqual(auth.code, 0, auth.stderr)
          const [stream, answer] = jsonLines(auth.stdout)
          assert.isString(stream.stream_id)
          assert.strictEqual(answer.type, "authenticate_key")
          assert.strictEqual(answer.user_key, generated.public_key)
          assert.strictEqual(answer.status.status, "approved")
          assert.lengthOf(answer.status.session_token.split("."), 3)

          // paid from the sandbox's funded wallet over NWC; the daemon sees its own invoice settled
          const payment = yield* portal(
            ["pay", "single", generated.npub, "--amount", "5000", "--description", "Tea", "--json"],
            {
              env
            }
          )
          assert.strictEqual(payment.code, 0, payment.stderr)
          const statuses = jsonLines(payment.stdout)
            .slice(1)
            .map((e) => e.status.status)
          assert.strictEqual(statuses.at(-1), "paid")
          assert.include(statuses, "user_approved")

          assert.strictEqual(yield* user.exited, 0)
          const decisions = jsonLines(user.stdout())
          assert.deepStrictEqual(
            decisions.map((d) => [d.type, d.decision]),
            [
              ["handshake", undefined],
              ["auth", "approved"],
              ["payment", "paid"]
            ]
          )
          assert.strictEqual(decisions[2].amount_msat, 5000)
        }),
      TIMEOUT
    )

    it.scoped(
      "--json output parses; bad input, a bad token and a declined login give one line and non-zero",
      () =>
        Effect.gen(function* () {
          const { env, info: sandboxInfo } = yield* SharedSandbox
          const info = yield* portal(["info", "--json"], { env })
          assert.strictEqual(info.code, 0, info.stderr)
          assert.match(jsonLines(info.stdout)[0].public_key, /^[0-9a-f]{64}$/)
          const relays = jsonLines((yield* portal(["relays", "list", "--json"], { env })).stdout)[0]
          assert.deepStrictEqual(
            relays.relays.map((r: { url: string }) => r.url),
            [sandboxInfo.relay_url]
          )
          const next = yield* portal(["calendar", "next", "daily", "--from", "1700000000", "--json"], { env })
          assert.deepStrictEqual(jsonLines(next.stdout), [{ next_occurrence: "1700006400" }])

          // rejected before any request, naming the field
          const bad = yield* portal(["pay", "single", "npub1nope", "--amount", "5", "--description", "x"], { env })
          assert.strictEqual(bad.code, 2)
          assert.strictEqual(bad.stderr.trim().split("\n").length, 1)
          assert.match(bad.stderr, /^error: Invalid main key/)

          const unauthorized = yield* portal(["info"], { env: { ...env, PORTAL_TOKEN: "not-the-token" } })
          assert.strictEqual(unauthorized.code, 1)
          assert.strictEqual(
            unauthorized.stderr.trim(),
            "error: daemon answered 401: Authentication failed: Invalid token"
          )
          assert.notInclude(unauthorized.stderr, "not-the-token")

          // a user who declines: the command ends non-zero with the reason
          const keyFile = join(mkdtempSync(join(tmpdir(), "portal-cli-user-")), "user.nsec")
          const key = jsonLines((yield* portal(["keys", "generate", "--json", "--out", keyFile])).stdout)[0]
          const handshake = jsonLines((yield* portal(["handshake", "--json", "--no-wait"], { env })).stdout)[0]
          const user = yield* start([
            "user",
            handshake.url,
            "--key-file",
            keyFile,
            "--decline-all",
            "--max-requests",
            "1"
          ])
          yield* user.line((l) => l.startsWith("handshake sent"))
          const declined = yield* portal(["auth", key.public_key], { env })
          assert.strictEqual(declined.code, 1)
          assert.match(declined.stdout, /declined by/)
          assert.strictEqual(declined.stderr.trim(), `error: declined by ${key.public_key}: Not approved by user`)

          // a reusable URL: followed until closed, which ends the follower successfully
          const door = yield* start(["handshake", "--static-token", "front-door", "--json"], { env })
          const doorStream = JSON.parse(yield* door.line((l) => l.includes('"url"'))).stream_id
          const closed = yield* portal(["handshake", "close", doorStream, "--json"], { env })
          assert.deepStrictEqual(jsonLines(closed.stdout), [{ stream_id: doorStream, closed: true }])
          assert.strictEqual(yield* door.exited, 0, door.stderr())
          assert.strictEqual(JSON.parse(yield* door.line((l) => l.includes('"error"'))).reason, "closed")

          // the stream can be read again: polled as JSON, or followed (already finished: returns at once)
          const streamId = /^stream (\S+)$/m.exec(declined.stdout)![1]!
          const polled = jsonLines((yield* portal(["events", streamId, "--json"], { env })).stdout)
          assert.deepStrictEqual(
            polled.map((e) => [e.index, e.type, e.status.status]),
            [[0, "authenticate_key", "declined"]]
          )
          const followed = yield* portal(["events", streamId, "--follow"], { env })
          assert.strictEqual(followed.code, 1)
          assert.include(followed.stdout, "declined by")
        }),
      TIMEOUT
    )

    it.scoped(
      "subscription, invoice and Cashu commands, answered by `portal user`",
      () =>
        Effect.gen(function* () {
          const { env, info: sandboxInfo } = yield* SharedSandbox
          const dir = mkdtempSync(join(tmpdir(), "portal-cli-money-"))
          const keyFile = join(dir, "user.nsec")
          const key = jsonLines((yield* portal(["keys", "generate", "--json", "--out", keyFile])).stdout)[0]
          const handshake = yield* portal(["handshake", "--no-wait"], { env })
          // human output: the QR code (half blocks), then the URL and the stream
          assert.match(handshake.stdout, /[▀▄█]/)
          const url = handshake.stdout.split("\n").find((l) => l.startsWith("portal://"))!
          const user = yield* start(
            ["user", url, "--key-file", keyFile, "--approve-all", "--max-requests", "3", "--json"],
            {
              env: { PORTAL_USER_NWC_URL: sandboxInfo.user_nwc_url }
            }
          )
          yield* user.line((l) => l.includes('"handshake"'))

          // first period due in an hour: authorised and closed before the daemon bills anything
          const firstDue = String(Math.floor(Date.now() / 1000) + 3600)
          const recurring = yield* portal(
            [
              "pay",
              "recurring",
              key.npub,
              "--amount",
              "1000",
              "--calendar",
              "daily",
              "--first-due",
              firstDue,
              "--max-payments",
              "3",
              "--json"
            ],
            { env }
          )
          assert.strictEqual(recurring.code, 0, recurring.stderr)
          const confirmed = jsonLines(recurring.stdout).at(-1)
          assert.strictEqual(confirmed.status.status.status, "confirmed")
          const close = yield* portal(
            ["pay", "close", key.npub, "--subscription-id", confirmed.status.status.subscription_id, "--json"],
            { env }
          )
          assert.strictEqual(close.code, 0, close.stderr)

          const invoice = yield* portal(["invoice", "request", key.public_key, "--amount", "3000", "--json"], { env })
          assert.strictEqual(invoice.code, 0, invoice.stderr)
          assert.match(jsonLines(invoice.stdout).at(-1).invoice, /^lnbc30n1/)

          // a ticket: minted by the daemon, sent to the user, asked back, burned
          const mintEnv = {
            ...env,
            PORTAL_MINT_URL: sandboxInfo.mint_url,
            PORTAL_MINT_STATIC_AUTH: sandboxInfo.mint_static_auth
          }
          const ticketFile = join(dir, "ticket")
          const minted = yield* portal(["cashu", "mint", "--unit", "ticket", "--amount", "1", "--out", ticketFile], {
            env: mintEnv
          })
          assert.strictEqual(minted.code, 0, minted.stderr)
          assert.notInclude(minted.stdout, "cashu")
          const sent = yield* portal(["cashu", "send", key.npub, "--token-file", ticketFile], { env: mintEnv })
          assert.strictEqual(sent.code, 0, sent.stderr)
          yield* user.line((l) => l.includes('"cashu_received"'))
          const requested = yield* portal(
            ["cashu", "request", key.npub, "--unit", "ticket", "--amount", "1", "--json"],
            {
              env: mintEnv
            }
          )
          assert.strictEqual(requested.code, 0, requested.stderr)
          const token = jsonLines(requested.stdout).at(-1).status.token
          const burned = yield* portal(["cashu", "burn", "--unit", "ticket", "--json"], { env: mintEnv, input: token })
          assert.strictEqual(burned.code, 0, burned.stderr)
          assert.deepStrictEqual(jsonLines(burned.stdout), [{ amount: 1 }])
          const again = yield* portal(["cashu", "burn", "--unit", "ticket"], { env: mintEnv, input: token })
          assert.strictEqual(again.code, 1)
          assert.match(again.stderr, /^error: daemon answered 400: .*already spent/)
          assert.notInclude(again.stderr, token)

          assert.strictEqual(yield* user.exited, 0, user.stderr())
          assert.deepStrictEqual(
            jsonLines(user.stdout())
              .filter((d) => d.decision !== undefined)
              .map((d) => [d.type, d.decision]),
            [
              ["subscription", "authorized"],
              ["invoice", "issued"],
              ["cashu", "Success"]
            ]
          )
        }),
      TIMEOUT
    )
  })

  it.live(
    "a daemon that is down gives one clear line and exit 1",
    () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const result = yield* portal(["info"], { env: { PORTAL_URL: `http://127.0.0.1:${port}`, PORTAL_TOKEN: "x" } })
        assert.strictEqual(result.code, 1)
        assert.strictEqual(
          result.stderr.trim(),
          `error: cannot reach the daemon at http://127.0.0.1:${port}: ECONNREFUSED (is it running? check --url / PORTAL_URL)`
        )
        assert.strictEqual(result.stdout, "")
        // --verbose adds the cause
        const verbose = yield* portal(["info", "--verbose"], {
          env: { PORTAL_URL: `http://127.0.0.1:${port}`, PORTAL_TOKEN: "x" }
        })
        assert.strictEqual(verbose.code, 1)
        assert.include(verbose.stderr, "RequestError")
        assert.isAbove(verbose.stderr.trim().split("\n").length, 1)
      }),
    TIMEOUT
  )

  it.scopedLive(
    "the sandbox stops cleanly on Ctrl-C (SIGINT) and removes its data directory",
    () =>
      Effect.gen(function* () {
        const { process, info } = yield* sandbox
        assert.isTrue(existsSync(info.data_dir))
        yield* process.signal("SIGINT")
        assert.strictEqual(yield* process.exited, 0)
        assert.isFalse(existsSync(info.data_dir))
      }),
    TIMEOUT
  )

  it.live(
    "sandbox --demo runs the story to the end",
    () =>
      Effect.gen(function* () {
        const result = yield* portal(["sandbox", "--demo"], { timeoutMs: 120_000 })
        assert.strictEqual(result.code, 0, result.stdout + result.stderr)
        assert.include(result.stdout, "[1/4] Login with Portal")
        assert.include(result.stdout, "✔ logged in")
        for (const step of [
          "✔ paid",
          "daemon: period 2 paid",
          "two periods billed and paid, then closed",
          "ticket burned at the mint"
        ]) {
          assert.include(result.stdout, step)
        }
        assert.include(result.stdout, "Demo finished: 4 done, 0 skipped, 0 failed")
      }),
    TIMEOUT
  )
})
