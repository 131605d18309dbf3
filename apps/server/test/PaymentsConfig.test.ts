/**
 * The daemon's wallet and rate settings at startup (`Daemon.layer` in-process, relays pointed at a closed loopback
 * port): `breez` is refused with one line, `nwc` without `wallet.nwc.url` or with a malformed URL names the key, a bad
 * `rates.fixed` entry names the key; none of these serves.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Daemon from "@portal/server/Daemon"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import * as DaemonProcess from "./DaemonProcess.js"

const home = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(NodePath.join(tmpdir(), "portal-paycfg-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Builds the daemon with `env` and returns the startup failure's message. */
const startupError = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const dir = yield* home
    const port = yield* DaemonProcess.freePort
    const error = yield* Effect.flip(
      Layer.build(
        Daemon.layer({
          argv: [],
          env: {
            PORTAL_DATA_DIR: dir,
            PORTAL__NOSTR__RELAYS: "ws://127.0.0.1:9",
            PORTAL__INFO__LISTEN_HOST: "127.0.0.1",
            PORTAL__INFO__LISTEN_PORT: String(port),
            ...env
          },
          home: dir
        }).pipe(Layer.provide(NodeContext.layer))
      )
    )
    return error.message
  })

describe("wallet and rates settings", () => {
  it.scoped("breez, nwc without a URL, a malformed NWC URL and a bad fixed rate each stop startup naming the key", () =>
    Effect.gen(function* () {
      assert.match(
        yield* startupError({ PORTAL__WALLET__LN_BACKEND: "breez" }),
        /^Invalid configuration: wallet\.ln_backend \(PORTAL__WALLET__LN_BACKEND\): breez is not available/
      )
      assert.strictEqual(
        yield* startupError({ PORTAL__WALLET__LN_BACKEND: "nwc" }),
        "Invalid configuration: wallet.nwc.url (PORTAL__WALLET__NWC__URL) is required when wallet.ln_backend is nwc"
      )
      const malformed = yield* startupError({
        PORTAL__WALLET__LN_BACKEND: "nwc",
        PORTAL__WALLET__NWC__URL: "https://wallet.example/?secret=0123456789abcdef"
      })
      assert.match(malformed, /^Invalid configuration: wallet\.nwc\.url: /)
      assert.notInclude(malformed, "0123456789abcdef")
      assert.strictEqual(
        yield* startupError({ PORTAL__RATES__SOURCE: "fixed", PORTAL__RATES__FIXED: "EUR=abc" }),
        'Invalid configuration: rates.fixed (PORTAL__RATES__FIXED): expected CODE=rate with a rate > 0 (fiat per BTC), got "EUR=abc"'
      )
    })
  )
})
