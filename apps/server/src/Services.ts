/**
 * The daemon's services over a `Store`: the Nostr side (a local `Signer` from the daemon's key, a `RelayPool` over
 * the effective relay set — configured relays plus those persisted in the store, differences.md §l —, and
 * `Conversations`), the relay set, event streams, key handshakes and key authentication. Building the layer resumes
 * every stored in-flight operation this instance can own (differences.md §f, §o) before the HTTP server starts
 * listening; later, operations whose lease expired or was released are taken over (`Conversing.own`), and closing
 * the layer releases this instance's leases after its conversations stopped.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Conversation from "@portal/nostr/Conversation"
import type * as Keys from "@portal/nostr/Keys"
import type { InvalidRelayUrl } from "@portal/nostr/NostrError"
import * as Nip05 from "@portal/nostr/Nip05"
import * as Profiles from "@portal/nostr/Profiles"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import type * as Subkey from "@portal/protocol/Subkey"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as NodePath from "node:path"
import * as CashuService from "@portal/cashu/Cashu"
import * as Wallet from "@portal/wallet/Wallet"
import type { WalletUnreachable } from "@portal/wallet/WalletError"
import * as Handshakes from "./Handshakes.js"
import * as Cashu from "./Cashu.js"
import * as Conversing from "./Conversing.js"
import * as Invoices from "./Invoices.js"
import * as KeyAuth from "./KeyAuth.js"
import * as Payments from "./Payments.js"
import * as Rates from "./Rates.js"
import * as Recurring from "./Recurring.js"
import * as Relays from "./Relays.js"
import * as Streams from "./Streams.js"

/** @category options */
export interface Options {
  /** The daemon's key pair (signs and decrypts). */
  readonly keys: Keys.KeyPair
  /**
   * Subkey mode (rest-api.md §8.2): `keys` is a subkey of `proof.mainKey` (checked at startup). Handshake URLs carry
   * the main key and `&subkey=`, listeners also match events tagged with the main key, challenges carry the proof.
   */
  readonly subkeyProof?: Subkey.SubkeyProof | undefined
  /** `nostr.relays`: the configured relays, in order. */
  readonly relays: ReadonlyArray<string>
  /** Queue a webhook delivery for every stream event (when `webhook.url` is set). */
  readonly webhook?: boolean | undefined
  /** One-shot handshake lifetime (default 300 s). */
  readonly handshakeTimeout?: Duration.DurationInput | undefined
  /** Auth challenge lifetime (default 300 s). */
  readonly authTimeout?: Duration.DurationInput | undefined
  /** Relay pool tuning (timeouts, backoff, buffers). */
  readonly pool?: Omit<RelayPool.Options, "relays"> | undefined
  /** How long `Conversations` waits for `EOSE` before publishing a request (default 2 s). */
  readonly subscribeWait?: Duration.DurationInput | undefined
  /** The HTTP client for NIP-05 look-ups (default: fetch). */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient> | undefined
  /** The Lightning wallet (`wallet.ln_backend`); default none: payment routes answer 400 naming the key. */
  readonly wallet?:
    { readonly layer: Layer.Layer<Wallet.Wallet, WalletUnreachable>; readonly configured: boolean } | undefined
  /** Fiat rates (default: no source, every fiat currency is unsupported). */
  readonly rates?: Rates.Options | undefined
  /** Lifetime of a single payment request (default 300 s). */
  readonly paymentTimeout?: Duration.DurationInput | undefined
  /** Subscription billing tuning. */
  readonly recurring?: Recurring.Options | undefined
  /** Cashu requests and mint calls (default: 300 s requests, 10 s per mint call). */
  readonly cashu?: (Cashu.Options & CashuService.Options) | undefined
  /** How often the relay set is re-read from the store for changes made by other instances (default 5 s). */
  readonly relaySyncInterval?: Duration.DurationInput | undefined
  /** Operation leases (differences.md §o; default 30 s, renewed every 10 s). */
  readonly leases?: Conversing.LeaseOptions | undefined
}

/** What the layer provides. @category models */
export type Services =
  | Signer.Signer
  | RelayPool.RelayPool
  | Conversation.Conversations
  | Relays.Relays
  | Streams.Streams
  | Handshakes.Handshakes
  | KeyAuth.KeyAuth
  | Profiles.Profiles
  | Nip05.Nip05
  | Wallet.Wallet
  | Rates.Rates
  | Payments.Payments
  | Recurring.Recurring
  | Invoices.Invoices
  | CashuService.Cashu
  | Cashu.Cashu
  | Conversing.Ownership

/**
 * Every service, over the store.
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Services, StoreFailure | InvalidRelayUrl | WalletUnreachable, Store.Store> => {
  const mainKey = options.subkeyProof?.mainKey
  const PoolLayer = Layer.unwrapEffect(
    Effect.map(Relays.effectiveSet(options.relays), (relays) => RelayPool.layerNode({ ...options.pool, relays }))
  )
  const NostrLayer = Conversation.layer({
    ...(mainKey === undefined ? {} : { mainKey }),
    ...(options.subscribeWait === undefined ? {} : { subscribeWait: options.subscribeWait })
  }).pipe(Layer.provideMerge(Layer.merge(Signer.layerLocalKeys(options.keys), PoolLayer)))
  const Nip05Layer = Nip05.layer().pipe(Layer.provide(options.httpClient ?? FetchHttpClient.layer))
  const LookupsLayer = Profiles.layer.pipe(Layer.provideMerge(Nip05Layer))
  const walletConfigured = options.wallet?.configured ?? false
  const BaseLayer = Layer.mergeAll(
    Streams.layer({ webhook: options.webhook }),
    Relays.layer(options.relays, { syncInterval: options.relaySyncInterval }),
    LookupsLayer,
    options.wallet?.layer ?? Wallet.layerNone,
    Rates.layer(options.rates ?? {}),
    // built before every service that runs operations, so it releases their leases after they stopped
    Conversing.layerOwnership(options.leases)
  ).pipe(Layer.provideMerge(NostrLayer))
  // Cashu: mint quotes paid with the wallet, burned ecash kept in the store
  const CashuLayer = Cashu.layer(options.cashu).pipe(
    Layer.provideMerge(
      CashuService.layer(options.cashu).pipe(Layer.provide(Layer.merge(FetchHttpClient.layer, Cashu.layerProofStore)))
    )
  )
  const PaymentsLayer = Layer.mergeAll(
    Recurring.layer(options.recurring),
    Invoices.layer({ walletConfigured }),
    CashuLayer
  ).pipe(
    Layer.provideMerge(Payments.layer({ walletConfigured, timeout: options.paymentTimeout })),
    Layer.provideMerge(BaseLayer)
  )
  return Layer.merge(
    Handshakes.layer({
      publicKey: options.keys.publicKey,
      mainKey,
      timeout: options.handshakeTimeout
    }),
    KeyAuth.layer({ timeout: options.authTimeout, subkeyProof: options.subkeyProof })
  ).pipe(Layer.provideMerge(PaymentsLayer))
}

/**
 * The store from the `database` settings: PostgreSQL when `url` is set, else SQLite at `path` under the data
 * directory (differences.md §o).
 * @category layers
 */
export const layerStore = (options: {
  readonly dataDir: string
  readonly path: string
  readonly url: Option.Option<Redacted.Redacted<string>>
  /** `database.retention_days`: finished streams older than this are removed; 0 keeps them (default 30). */
  readonly retentionDays?: number | undefined
}): Layer.Layer<Store.Store, StoreFailure> => {
  const days = options.retentionDays ?? 30
  const retention = days === 0 ? (false as const) : { ...Store.defaultRetention, maxAge: Duration.days(days) }
  return Option.match(
    Option.filter(options.url, (url) => Redacted.value(url).trim() !== ""),
    {
      onNone: () =>
        Store.layerSqlite({
          filename: options.path === ":memory:" ? options.path : NodePath.resolve(options.dataDir, options.path),
          retention
        }),
      onSome: (url) => Store.layerPg({ url, retention })
    }
  )
}
