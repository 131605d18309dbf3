/**
 * The whole daemon as one layer, from the process inputs (argv, environment, home directory): settings and secrets
 * (`Startup.load`), the store, relays, Nostr, every operation service, webhooks and the HTTP server listening on
 * `info.listen_host:listen_port`. `main.ts` launches it; the CLI's sandbox and tests embed it in their own program.
 *
 * Every startup failure (bad settings, a database that cannot be opened, a bad relay URL) is a `StartupError` with
 * one clear line.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Wallet from "@portal/wallet/Wallet"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as LogLevel from "effect/LogLevel"
import { fileURLToPath } from "node:url"
import * as BuildInfo from "./BuildInfo.js"
import type * as Config from "./Config.js"
import * as Auth from "./Auth.js"
import * as Http from "./Http.js"
import * as HttpSettings from "./Http/HttpSettings.js"
import * as ServerIdentity from "./Http/ServerIdentity.js"
import * as Session from "./Http/Session.js"
import * as Rates from "./Rates.js"
import * as ProfileStartup from "./ProfileStartup.js"
import * as Relays from "./Relays.js"
import * as Secrets from "./Secrets.js"
import * as Services from "./Services.js"
import * as Startup from "./Startup.js"
import * as Webhooks from "./Webhooks.js"

const appDirectory = fileURLToPath(new URL(".", import.meta.url))

const levels = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
} as const

/** What the daemon reads from its process. @category models */
export interface ProcessInput {
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly home: string
}

const describe = <E extends { readonly _tag: string; readonly message: string }>(
  error: E
): Secrets.StartupError | Exclude<E, { readonly _tag: "StoreFailure" | "InvalidRelayUrl" | "WalletUnreachable" }> => {
  if (error._tag === "StoreFailure")
    return new Secrets.StartupError({ message: `Cannot open the database: ${error.message}` })
  if (error._tag === "InvalidRelayUrl") {
    return new Secrets.StartupError({ message: `Invalid configuration: nostr.relays: ${error.message}` })
  }
  if (error._tag === "WalletUnreachable") {
    return new Secrets.StartupError({ message: `Invalid configuration: wallet.nwc.url: ${error.message}` })
  }
  return error as Exclude<E, { readonly _tag: "StoreFailure" | "InvalidRelayUrl" | "WalletUnreachable" }>
}

/**
 * The daemon, serving until its scope closes.
 * @category layers
 */
export const layer = (startup: ProcessInput) => layerUnmapped(startup).pipe(Layer.mapError(describe))

const layerUnmapped = (startup: ProcessInput) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const { keys, paths, secrets, settings, subkeyProof } = yield* Startup.load(startup)
      const wallet = yield* walletFrom(settings.wallet)
      const rates = yield* ratesFrom(settings.rates)
      // the store, relays (configured + persisted), Nostr, streams and operations; in-flight ones resume here
      const ServicesLayer = Services.layer({
        keys,
        subkeyProof: Option.getOrUndefined(subkeyProof),
        relays: settings.nostr.relays,
        webhook: Option.isSome(settings.webhook.url),
        wallet,
        rates
      }).pipe(Layer.provideMerge(Services.layerStore({ dataDir: paths.dataDir, ...settings.database })))
      // webhook delivery from the outbox, when webhook.url is set (nothing is queued otherwise)
      const WebhooksLayer = Option.match(settings.webhook.url, {
        onNone: () => Layer.empty,
        onSome: (url) => Webhooks.layer({ ...settings.webhook, url }).pipe(Layer.provide(FetchHttpClient.layer))
      })
      // the configured profile (kind 0) and the one-time getportal.cc NIP-05 registration, in the background
      const ProfileLayer = ProfileStartup.layer({
        profile: settings.profile,
        subkey: Option.isSome(subkeyProof),
        dataDir: paths.dataDir
      }).pipe(Layer.provide(FetchHttpClient.layer))
      return Layer.mergeAll(Http.HttpLayer, ProfileLayer).pipe(
        Layer.provide(BuildInfo.layer(appDirectory)),
        Layer.provide(Auth.layerApiToken(secrets.authToken)),
        Layer.provide(HttpSettings.layer(settings.server)),
        // NIP-98 replay ids in the store, shared by instances on one database
        Layer.provide(
          Session.layer({ keys, ...settings.auth, ...settings.server }).pipe(Layer.provide(Session.layerSeenIdsStore))
        ),
        Layer.provide(
          Layer.unwrapEffect(
            Effect.map(Relays.Relays, (relays) =>
              ServerIdentity.layer({
                publicKey: keys.publicKey,
                mainKey: Option.getOrUndefined(Option.map(subkeyProof, (proof) => proof.mainKey)),
                profileName: settings.profile.name,
                relays: Effect.orElseSucceed(relays.effective, () => settings.nostr.relays)
              })
            )
          )
        ),
        // listens once the services (and the operations they resume) are up; on shutdown in-flight requests finish
        // first, then webhook attempts in flight (the outbox keeps the rest), then the services close
        Layer.provide(
          Http.layerNodeServer({
            host: settings.info.host,
            port: settings.info.port,
            shutdownGraceMs: settings.server.shutdownGraceMs
          }).pipe(Layer.provideMerge(WebhooksLayer))
        ),
        Layer.provide(ServicesLayer),
        Layer.provide(Logger.minimumLogLevel(levels[settings.logging.level])),
        // nothing exports spans (no tracer is configured): `withSpan` makes no-op spans instead of recording them
        Layer.provide(Layer.setTracerEnabled(false))
      )
    })
  )

/** `wallet.ln_backend` (rest-api.md §8.3): none, or NWC from `wallet.nwc.url`; Breez cannot run here. */
const walletFrom = (settings: Config.Settings["wallet"]) => {
  switch (settings.lnBackend) {
    case "none":
      return Effect.succeed({ layer: Wallet.layerNone, configured: false })
    case "breez":
      return new Secrets.StartupError({
        message:
          "Invalid configuration: wallet.ln_backend (PORTAL__WALLET__LN_BACKEND): breez is not available in this " +
          "daemon (it needs the Breez network service); use nwc"
      })
    case "nwc":
      return Option.match(settings.nwcUrl, {
        onNone: () =>
          new Secrets.StartupError({
            message:
              "Invalid configuration: wallet.nwc.url (PORTAL__WALLET__NWC__URL) is required when wallet.ln_backend is nwc"
          }),
        onSome: (url) => Effect.succeed({ layer: Wallet.layerNwc({ url }), configured: true })
      })
  }
}

/** `rates.*`: where fiat prices come from (`fixed` for tests and the sandbox). */
const ratesFrom = (settings: Config.Settings["rates"]) =>
  Effect.gen(function* () {
    const maxAge = `${settings.maxAgeSecs} seconds` as const
    switch (settings.source) {
      case "none":
        return { maxAge }
      case "fixed": {
        const fixed = yield* Rates.parseFixed(settings.fixed).pipe(
          Effect.mapError(
            (detail) =>
              new Secrets.StartupError({
                message: `Invalid configuration: rates.fixed (PORTAL__RATES__FIXED): ${detail}`
              })
          )
        )
        return { maxAge, source: Rates.fixedSource(fixed) }
      }
      case "yadio": {
        const client = yield* Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer)
        return { maxAge, source: Rates.yadioSource(settings.url, client) }
      }
    }
  })
