/**
 * The Lightning wallet the daemon (and the user side) pays and gets paid with. One contract, several backends,
 * chosen by the app from `wallet.ln_backend` (rest-api.md §8.3):
 *
 * - `layerNone`: no wallet; every call fails with `WalletNotConfigured`, whose message names
 *   `wallet.ln_backend` / `PORTAL__WALLET__LN_BACKEND` (the daemon answers 400, differences.md §i);
 * - `layerNwc` / `layerNwcConfig`: Nostr Wallet Connect (NIP-47) through `@getalby/sdk`'s `NWCClient`, NIP-44
 *   with NIP-04 fallback, URL from `wallet.nwc.url` (a secret: kept `Redacted`, never in messages or logs);
 *   settlement is watched by polling `lookup_invoice`, as the reference does;
 * - `SimulatedLightning.layerSimulated`: an in-memory network of wallets paying each other with real BOLT11
 *   (tests and the sandbox only; never the default).
 *
 * Breez is not implemented here: it needs its own network and service (see README).
 *
 * Amounts are whole msat (`Msat`); an invoice counts as paid only with a preimage whose sha256 is its payment hash.
 *
 * @since 0.1.0
 */
import { Msat, UnixSeconds } from "@portal/protocol/Primitives"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Bolt11 from "./Bolt11.js"
import * as Getalby from "./internal/getalby.js"
import { type WalletError, WalletNotConfigured, WalletTimeout, WalletUnreachable } from "./WalletError.js"

/**
 * A fresh invoice: the BOLT11 to hand to the payer and the hash to watch.
 * @category models
 */
export class Invoice extends Schema.Class<Invoice>("Invoice")({
  bolt11: Bolt11.Bolt11,
  paymentHash: Bolt11.PaymentHash,
  amountMsat: Msat,
  description: Schema.String,
  createdAt: UnixSeconds,
  expiresAt: UnixSeconds
}) {}

/**
 * Where an invoice stands: `pending` (payable), `settled` (paid; `preimage` and `settledAt` are set and the
 * preimage hashes to `paymentHash`) or `expired` (can no longer be paid).
 * @category models
 */
export class InvoiceStatus extends Schema.Class<InvoiceStatus>("InvoiceStatus")({
  paymentHash: Bolt11.PaymentHash,
  amountMsat: Msat,
  state: Schema.Literal("pending", "settled", "expired"),
  preimage: Schema.optional(Bolt11.Preimage),
  settledAt: Schema.optional(UnixSeconds),
  expiresAt: UnixSeconds
}) {}

/**
 * The invoice was paid: `sha256(preimage) = paymentHash` holds.
 * @category models
 */
export class Settled extends Schema.TaggedClass<Settled>()("Settled", {
  paymentHash: Bolt11.PaymentHash,
  preimage: Bolt11.Preimage,
  amountMsat: Msat,
  settledAt: UnixSeconds
}) {}

/**
 * The invoice expired unpaid.
 * @category models
 */
export class Expired extends Schema.TaggedClass<Expired>()("Expired", {
  paymentHash: Bolt11.PaymentHash,
  expiresAt: UnixSeconds
}) {}

/** @category models */
export type Settlement = Settled | Expired
/** @category models */
export const Settlement = Schema.Union(Settled, Expired)

/**
 * An outgoing payment that went through.
 * @category models
 */
export class Payment extends Schema.Class<Payment>("Payment")({
  paymentHash: Bolt11.PaymentHash,
  preimage: Bolt11.Preimage,
  amountMsat: Msat,
  feesPaidMsat: Msat
}) {}

/**
 * What the backend is. `walletType` is what `/wallet/info` reports (`nwc`, or `simulated` in the sandbox).
 * @category models
 */
export class WalletInfo extends Schema.Class<WalletInfo>("WalletInfo")({
  walletType: Schema.Literal("nwc", "simulated"),
  alias: Schema.optional(Schema.String),
  network: Schema.optional(Schema.String),
  nodePubkey: Schema.optional(Schema.String),
  methods: Schema.Array(Schema.String)
}) {}

/**
 * An invoice to create. `expirySecs` absent: the backend's default (NWC: the wallet's; simulated: 3600 s).
 * @category models
 */
export interface MakeInvoice {
  readonly amountMsat: Msat
  readonly description: string
  readonly expirySecs?: number
}

/**
 * A Lightning wallet. Every method fails with a `WalletError`; none needs anything from the context.
 * @category services
 */
export interface Service {
  /** Creates a BOLT11 invoice for `amountMsat`. */
  readonly makeInvoice: (request: MakeInvoice) => Effect.Effect<Invoice, WalletError>
  /** Where one of this wallet's invoices stands now. */
  readonly lookupInvoice: (paymentHash: Bolt11.PaymentHash) => Effect.Effect<InvoiceStatus, WalletError>
  /** Waits until the invoice is settled (with a verified preimage) or expired. Interrupt to stop waiting. */
  readonly awaitSettlement: (paymentHash: Bolt11.PaymentHash) => Effect.Effect<Settlement, WalletError>
  /** The invoice's status now, then once more when it settles or expires; ends after that. */
  readonly settlement: (paymentHash: Bolt11.PaymentHash) => Stream.Stream<InvoiceStatus, WalletError>
  /** Pays a BOLT11 invoice (with an amount); the preimage is checked against the invoice's payment hash. */
  readonly payInvoice: (bolt11: string) => Effect.Effect<Payment, WalletError>
  /** Spendable balance. */
  readonly balance: Effect.Effect<Msat, WalletError>
  /** What the backend is. */
  readonly info: Effect.Effect<WalletInfo, WalletError>
}

/**
 * The wallet service.
 * @category services
 */
export class Wallet extends Context.Tag("@portal/wallet/Wallet")<Wallet, Service>() {}

/**
 * The `Settlement` a terminal status stands for, or `undefined` while pending.
 * @category models
 */
export const toSettlement = (status: InvoiceStatus): Settlement | undefined =>
  status.state === "settled" && status.preimage !== undefined && status.settledAt !== undefined
    ? new Settled({
        paymentHash: status.paymentHash,
        preimage: status.preimage,
        amountMsat: status.amountMsat,
        settledAt: status.settledAt
      })
    : status.state === "expired"
      ? new Expired({ paymentHash: status.paymentHash, expiresAt: status.expiresAt })
      : undefined

/**
 * Builds `settlement` from `lookupInvoice` and `awaitSettlement`: the current status, then the terminal one.
 * @category constructors
 */
export const settlementStream =
  (lookupInvoice: Service["lookupInvoice"], awaitSettlement: Service["awaitSettlement"]): Service["settlement"] =>
  (paymentHash) =>
    Stream.unwrap(
      Effect.map(lookupInvoice(paymentHash), (first) =>
        first.state !== "pending"
          ? Stream.make(first)
          : Stream.concat(
              Stream.make(first),
              Stream.fromEffect(Effect.zipRight(awaitSettlement(paymentHash), lookupInvoice(paymentHash)))
            )
      )
    )

// ---------------------------------------------------------------------------------------------------------------
// none
// ---------------------------------------------------------------------------------------------------------------

const notConfigured = (op: string) => Effect.fail(new WalletNotConfigured({ op }))

/**
 * No wallet: every call fails with `WalletNotConfigured`.
 * @category layers
 */
export const layerNone: Layer.Layer<Wallet> = Layer.succeed(
  Wallet,
  Wallet.of({
    makeInvoice: () => notConfigured("make_invoice"),
    lookupInvoice: () => notConfigured("lookup_invoice"),
    awaitSettlement: () => notConfigured("await_settlement"),
    settlement: () => Stream.fromEffect(notConfigured("settlement")),
    payInvoice: () => notConfigured("pay_invoice"),
    balance: notConfigured("get_balance"),
    info: notConfigured("get_info")
  })
)

// ---------------------------------------------------------------------------------------------------------------
// nwc
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of the NWC backend.
 * @category nwc
 */
export interface NwcOptions {
  /** `nostr+walletconnect://<wallet pubkey>?relay=…&secret=…`: a secret. */
  readonly url: Redacted.Redacted<string>
  /** How often `lookup_invoice` is polled while waiting for a settlement. Default 1 second. */
  readonly pollInterval?: Duration.DurationInput
  /** How long one `lookup_invoice` of that polling may take before it is retried. Default 10 seconds. */
  readonly pollTimeout?: Duration.DurationInput
}

const badReply = (op: string, detail: string) => new WalletUnreachable({ op, reason: "BadReply", detail })

const decodeMsat = (op: string, value: number) =>
  Schema.decodeUnknown(Msat)(value).pipe(
    Effect.mapError(() => badReply(op, `amount: expected whole msat ≥ 0, got ${value}`))
  )

/** The status an NWC transaction stands for; a settled one must carry a preimage that hashes to its hash. */
const statusFromTransaction = (op: string, paymentHash: string, tx: Getalby.Transaction) =>
  Effect.gen(function* () {
    if (tx.payment_hash !== paymentHash)
      return yield* badReply(op, `payment_hash: expected ${paymentHash}, got ${tx.payment_hash}`)
    const hash = yield* Schema.decodeUnknown(Bolt11.PaymentHash)(tx.payment_hash).pipe(
      Effect.mapError((e) => badReply(op, e.message))
    )
    const amountMsat = yield* decodeMsat(op, tx.amount)
    const nowSecs = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    // No expires_at: fall back to the expiry written in the invoice itself, else treat it as not expiring.
    const fromInvoice =
      (tx.expires_at ?? undefined) === undefined && tx.invoice
        ? yield* Bolt11.decode(tx.invoice).pipe(
            Effect.map((d) => d.expiresAt),
            Effect.orElseSucceed(() => undefined)
          )
        : undefined
    const expiresAt = UnixSeconds.make(Math.max(0, Math.floor(tx.expires_at ?? fromInvoice ?? Number.MAX_SAFE_INTEGER)))
    const settled = tx.state === "settled" || ((tx.state ?? undefined) === undefined && (tx.settled_at ?? 0) > 0)
    if (settled) {
      const preimage = tx.preimage ?? ""
      if (!Bolt11.preimageMatches(preimage, hash))
        return yield* badReply(op, `settled invoice ${hash}: preimage does not hash to the payment hash`)
      return new InvoiceStatus({
        paymentHash: hash,
        amountMsat,
        state: "settled",
        preimage: Bolt11.Preimage.make(preimage),
        settledAt: UnixSeconds.make(Math.floor(tx.settled_at ?? nowSecs)),
        expiresAt
      })
    }
    const expired = tx.state === "failed" || expiresAt <= nowSecs
    return new InvoiceStatus({ paymentHash: hash, amountMsat, state: expired ? "expired" : "pending", expiresAt })
  })

const isTransient = (e: WalletError) =>
  e._tag === "WalletTimeout" ||
  (e._tag === "WalletUnreachable" && (e.reason === "Connect" || e.reason === "Publish" || e.reason === "RateLimited"))

/**
 * The NWC backend over an open connection; the connection closes with the scope.
 * @category nwc
 */
export const makeNwc = Effect.fnUntraced(function* (options: NwcOptions) {
  const client = yield* Effect.acquireRelease(Getalby.connect(options.url), Getalby.close)
  const pollInterval = Duration.decode(options.pollInterval ?? "1 second")
  const pollTimeout = Duration.decode(options.pollTimeout ?? "10 seconds")

  const makeInvoice = Effect.fn("Wallet.makeInvoice")(function* (request: MakeInvoice) {
    const tx = yield* Getalby.makeInvoice({
      amount: request.amountMsat,
      description: request.description,
      ...(request.expirySecs === undefined ? {} : { expiry: request.expirySecs })
    })(client)
    const decoded = yield* Bolt11.decode(tx.invoice ?? "").pipe(
      Effect.mapError((e) => badReply("make_invoice", `invoice: ${e.detail}`))
    )
    if (decoded.paymentHash !== tx.payment_hash)
      return yield* badReply("make_invoice", "the invoice's payment hash differs from payment_hash")
    if (decoded.amountMsat !== request.amountMsat)
      return yield* badReply(
        "make_invoice",
        `invoice amount: expected ${request.amountMsat} msat, got ${decoded.amountMsat ?? "none"}`
      )
    return new Invoice({
      bolt11: decoded.bolt11,
      paymentHash: decoded.paymentHash,
      amountMsat: request.amountMsat,
      description: request.description,
      createdAt: decoded.createdAt,
      expiresAt: decoded.expiresAt
    })
  })

  const lookupInvoice = Effect.fn("Wallet.lookupInvoice")(function* (paymentHash: Bolt11.PaymentHash) {
    const tx = yield* Getalby.lookupInvoice(paymentHash)(client)
    return yield* statusFromTransaction("lookup_invoice", paymentHash, tx)
  })

  const awaitSettlement = Effect.fn("Wallet.awaitSettlement")(function* (paymentHash: Bolt11.PaymentHash) {
    const poll = lookupInvoice(paymentHash).pipe(
      // A request lost while a relay reconnects would otherwise wait for the sdk's 60 s reply timeout.
      Effect.timeoutFail({
        duration: pollTimeout,
        onTimeout: () =>
          new WalletTimeout({ op: "lookup_invoice", detail: `no reply in ${Duration.format(pollTimeout)}` })
      }),
      // A relay or wallet hiccup does not end the wait: back off up to 30 s between tries, for up to 10 minutes.
      Effect.retry({
        while: isTransient,
        schedule: Schedule.exponential(pollInterval).pipe(
          Schedule.union(Schedule.spaced("30 seconds")),
          Schedule.upTo("10 minutes")
        )
      })
    )
    const status = yield* poll.pipe(
      Effect.repeat(
        Schedule.recurUntil((s: InvoiceStatus) => s.state !== "pending").pipe(Schedule.addDelay(() => pollInterval))
      )
    )
    const settlement = toSettlement(status)
    if (settlement === undefined) return yield* badReply("lookup_invoice", "settled without preimage")
    return settlement
  })

  const payInvoice = Effect.fn("Wallet.payInvoice")(function* (bolt11: string) {
    const decoded = yield* Bolt11.decode(bolt11)
    const result = yield* Getalby.payInvoice(decoded.bolt11)(client)
    if (!Bolt11.preimageMatches(result.preimage, decoded.paymentHash))
      return yield* badReply("pay_invoice", "the preimage does not hash to the invoice's payment hash")
    return new Payment({
      paymentHash: decoded.paymentHash,
      preimage: Bolt11.Preimage.make(result.preimage),
      amountMsat: decoded.amountMsat ?? Msat.make(0),
      feesPaidMsat: yield* decodeMsat("pay_invoice", result.fees_paid ?? 0)
    })
  })

  const balance = Getalby.getBalance(client).pipe(
    Effect.flatMap((r) => decodeMsat("get_balance", r.balance)),
    Effect.withSpan("Wallet.balance")
  )

  const info = Getalby.getInfo(client).pipe(
    Effect.map(
      (r) =>
        new WalletInfo({
          walletType: "nwc",
          ...(r.alias ? { alias: r.alias } : {}),
          ...(r.network ? { network: r.network } : {}),
          ...(r.pubkey ? { nodePubkey: r.pubkey } : {}),
          methods: r.methods ?? []
        })
    ),
    Effect.withSpan("Wallet.info")
  )

  return Wallet.of({
    makeInvoice,
    lookupInvoice,
    awaitSettlement,
    settlement: settlementStream(lookupInvoice, awaitSettlement),
    payInvoice,
    balance,
    info
  })
})

/**
 * NWC backend. Building it does not contact the wallet; the first call fetches the wallet's 13194 info event.
 * @category layers
 */
export const layerNwc = (options: NwcOptions): Layer.Layer<Wallet, WalletUnreachable> =>
  Layer.scoped(Wallet, makeNwc(options))

/**
 * NWC backend, options from `Config` (e.g. `url: Config.redacted("url").pipe(Config.nested("nwc"),
 * Config.nested("wallet"))` for `PORTAL__WALLET__NWC__URL`).
 * @category layers
 */
export const layerNwcConfig = (
  options: Config.Config.Wrap<NwcOptions>
): Layer.Layer<Wallet, WalletUnreachable | ConfigError.ConfigError> =>
  Layer.scoped(Wallet, Effect.flatMap(Config.unwrap(options), makeNwc))
