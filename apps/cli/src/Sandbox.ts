/**
 * A complete Portal setup on loopback, in this process, for trying every flow without a phone, a Lightning node or
 * a mint: a Nostr relay (`@portal/testing` TestRelay), a simulated Lightning network with a merchant wallet served
 * over NWC to the daemon and a funded user wallet (served over NWC too, for `portal user --nwc-url`), and the
 * daemon itself (`@portal/server` Daemon) on SQLite in a fresh temporary data directory with a generated token.
 * Everything stops and the directory is removed when the scope closes.
 *
 * The test Cashu mint (`@portal/testing` CashuMint) issues `sat` against the simulated network and `ticket` with
 * static auth (the box office's secret, `mintStaticAuth`). Fiat amounts are priced with fixed rates
 * (`FIXED_RATES`): the sandbox never reaches the internet.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Daemon from "@portal/server/Daemon"
import * as CashuMint from "@portal/testing/CashuMint"
import * as NwcWalletService from "@portal/testing/NwcWalletService"
import * as TestRelay from "@portal/testing/TestRelay"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CliError } from "./Output.js"

/**
 * Starting balances (msat).
 * @category constants
 */
export const USER_BALANCE_MSAT = 100_000_000
/** @category constants */
export const MERCHANT_BALANCE_MSAT = 10_000_000

/**
 * Fixed BTC prices the daemon uses for fiat amounts.
 * @category constants
 */
export const FIXED_RATES = "EUR=60000,USD=65000"

/**
 * A running sandbox.
 * @category models
 */
export interface Sandbox {
  /** The daemon's base URL. */
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly relayUrl: string
  /** NWC URI of the funded user wallet (a secret, but of a throwaway simulated wallet). */
  readonly userNwcUrl: Redacted.Redacted<string>
  readonly mintUrl: Option.Option<string>
  /** The mint's static auth token for `ticket` issuance (a throwaway secret). */
  readonly mintStaticAuth: Redacted.Redacted<string>
  readonly dataDir: string
  readonly network: SimulatedLightning.Network
}

/** A port that was free a moment ago (the daemon takes its port from settings). */
const freePort = Effect.async<number, CliError>((resume) => {
  const server = createServer()
  server.once("error", (e) => resume(Effect.fail(new CliError({ message: `no free port: ${e.message}` }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    server.close(() =>
      typeof address === "object" && address !== null
        ? resume(Effect.succeed(address.port))
        : resume(Effect.fail(new CliError({ message: "no free port" })))
    )
  })
})

/**
 * Starts the sandbox for the scope; `port` 0 picks a free one.
 * @category constructors
 */
export const make = (options: { readonly port?: number }): Effect.Effect<Sandbox, CliError, Scope.Scope> =>
  Effect.gen(function* () {
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "portal-sandbox-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const relay = yield* TestRelay.make
    const network = yield* SimulatedLightning.makeNetwork({
      wallets: { merchant: MERCHANT_BALANCE_MSAT, user: USER_BALANCE_MSAT, mint: 0 }
    })
    const mintStaticAuth = Redacted.make(randomBytes(16).toString("hex"))
    const mint = yield* CashuMint.make({
      units: ["sat", "ticket"],
      staticAuthToken: mintStaticAuth,
      lightning: { network, walletName: "mint" }
    })
    const merchantNwc = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("merchant") })
    const userNwc = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("user") })
    const port = options.port !== undefined && options.port > 0 ? options.port : yield* freePort
    const token = Redacted.make(randomBytes(32).toString("hex"))
    yield* Layer.build(
      Daemon.layer({
        argv: [],
        home: dataDir,
        env: {
          PORTAL_DATA_DIR: dataDir,
          PORTAL__INFO__LISTEN_HOST: "127.0.0.1",
          PORTAL__INFO__LISTEN_PORT: String(port),
          PORTAL__AUTH__AUTH_TOKEN: Redacted.value(token),
          PORTAL__NOSTR__RELAYS: relay.url,
          PORTAL__WALLET__LN_BACKEND: "nwc",
          PORTAL__WALLET__NWC__URL: Redacted.value(merchantNwc.url),
          PORTAL__PROFILE__NAME: "sandbox",
          PORTAL__RATES__SOURCE: "fixed",
          PORTAL__RATES__FIXED: FIXED_RATES,
          PORTAL__LOGGING__FILTER: "warn"
        }
      }).pipe(Layer.provide(NodeHttpServer.layerContext))
    )
    return {
      url: `http://127.0.0.1:${port}`,
      token,
      relayUrl: relay.url,
      userNwcUrl: userNwc.url,
      mintUrl: Option.some(mint.url),
      mintStaticAuth,
      dataDir,
      network
    }
  }).pipe(Effect.mapError((e) => (e instanceof CliError ? e : new CliError({ message: `sandbox: ${e.message}` }))))
