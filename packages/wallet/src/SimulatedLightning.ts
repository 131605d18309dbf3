/**
 * A simulated Lightning network, in memory: several named wallets that invoice and pay each other. What tests and
 * the sandbox run on; **never the default** for real use (the daemon's default backend is `none`).
 *
 * It is simulated, not faked:
 * - invoices are real BOLT11 strings (mainnet `lnbc…`), encoded and signed with `@atomiqlabs/bolt11` by the
 *   payee's node key, with the amount in msat, a description, a payment secret and an expiry;
 * - each invoice has a random 32-byte preimage whose sha256 is the payment hash; paying reveals it;
 * - paying decodes the BOLT11, checks its signature against the issuing node, and fails as a real wallet would:
 *   insufficient balance (amount + the network's flat fee), expired, already paid, paying yourself, an invoice the
 *   network does not know, a wallet switched offline (`setOffline`).
 *
 * Time comes from `Clock` (so `TestClock` moves expiry); randomness for preimages and node keys from
 * `node:crypto`. Balances are whole msat.
 *
 * @since 0.1.0
 */
import { Msat, UnixSeconds } from "@portal/protocol/Primitives"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Bolt11 from "./Bolt11.js"
import { encodeSigned, payeeNodeKey } from "./internal/atomiqBolt11.js"
import { nodePublicKey, random32Hex, sha256Hex } from "./internal/crypto.js"
import * as Wallet from "./Wallet.js"
import {
  type WalletError,
  WalletInsufficientBalance,
  WalletInvoiceNotFound,
  WalletPaymentFailed,
  WalletUnreachable
} from "./WalletError.js"

/**
 * Options of a network.
 * @category network
 */
export interface NetworkOptions {
  /** Starting balances by wallet name. More wallets can be added later with `addWallet`. */
  readonly wallets?: Readonly<Record<string, number>>
  /** Flat routing fee the payer pays per payment, msat. Default 0. */
  readonly feeMsat?: number
  /** Invoice expiry when the caller gives none, seconds. Default 3600. */
  readonly defaultExpirySecs?: number
}

/**
 * A running network.
 * @category network
 */
export interface Network {
  /** Adds a wallet with a starting balance. An existing name or a bad balance is a defect (a test bug). */
  readonly addWallet: (name: string, balanceMsat?: number) => Effect.Effect<void>
  /** A wallet's balance, whatever its online state. Dies for an unknown name (a test bug). */
  readonly balanceOf: (name: string) => Effect.Effect<Msat>
  /** Takes a wallet off the network (`true`) or back (`false`): its calls fail with `WalletUnreachable`, and
   *  payments to it fail with `WalletPaymentFailed`. */
  readonly setOffline: (name: string, offline: boolean) => Effect.Effect<void>
  /** The `Wallet` service of a named wallet. Dies for an unknown name (a test bug). */
  readonly wallet: (name: string) => Effect.Effect<Wallet.Service>
  /** The wallet names. */
  readonly walletNames: Effect.Effect<ReadonlyArray<string>>
}

/**
 * The network as a service, for apps and tests that wire it with layers.
 * @category network
 */
export class SimulatedNetwork extends Context.Tag("@portal/wallet/SimulatedLightning/SimulatedNetwork")<
  SimulatedNetwork,
  Network
>() {}

interface WalletRecord {
  readonly name: string
  readonly nodeSecretKey: string
  readonly nodePubkey: string
  balanceMsat: bigint
  offline: boolean
}

interface InvoiceRecord {
  readonly payee: string
  readonly invoice: Wallet.Invoice
  readonly preimage: Bolt11.Preimage
  readonly settled: Deferred.Deferred<void>
  settledAt: UnixSeconds | undefined
}

const METHODS = ["make_invoice", "lookup_invoice", "pay_invoice", "get_balance", "get_info"] as const

const toMsat = (op: string, value: bigint): Effect.Effect<Msat, WalletUnreachable> =>
  value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Effect.succeed(Msat.make(Number(value)))
    : Effect.fail(new WalletUnreachable({ op, reason: "Internal", detail: `balance out of range: ${value} msat` }))

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => UnixSeconds.make(Math.floor(ms / 1000)))

/**
 * Starts a network.
 * @category network
 */
export const makeNetwork = (options: NetworkOptions = {}): Effect.Effect<Network> =>
  Effect.sync(() => {
    const wallets = new Map<string, WalletRecord>()
    const invoices = new Map<string, InvoiceRecord>()
    const feeMsat = BigInt(options.feeMsat ?? 0)
    const defaultExpirySecs = options.defaultExpirySecs ?? 3600

    const add = (name: string, balanceMsat: number) => {
      if (wallets.has(name)) throw new Error(`simulated wallet ${name} exists already`)
      if (!Number.isSafeInteger(balanceMsat) || balanceMsat < 0)
        throw new Error(`balanceMsat: expected whole msat ≥ 0, got ${balanceMsat}`)
      const nodeSecretKey = random32Hex()
      wallets.set(name, {
        name,
        nodeSecretKey,
        nodePubkey: nodePublicKey(nodeSecretKey),
        balanceMsat: BigInt(balanceMsat),
        offline: false
      })
    }
    for (const [name, balance] of Object.entries(options.wallets ?? {})) add(name, balance)

    const record = (name: string) =>
      Effect.suspend(() => {
        const w = wallets.get(name)
        return w === undefined ? Effect.dieMessage(`no simulated wallet named ${name}`) : Effect.succeed(w)
      })

    const online = (w: WalletRecord, op: string) =>
      Effect.suspend(() =>
        w.offline
          ? Effect.fail(
              new WalletUnreachable({ op, reason: "Connect", detail: `simulated wallet ${w.name} is offline` })
            )
          : Effect.void
      )

    const statusOf = (rec: InvoiceRecord, now: UnixSeconds): Wallet.InvoiceStatus =>
      new Wallet.InvoiceStatus({
        paymentHash: rec.invoice.paymentHash,
        amountMsat: rec.invoice.amountMsat,
        state: rec.settledAt !== undefined ? "settled" : now >= rec.invoice.expiresAt ? "expired" : "pending",
        ...(rec.settledAt !== undefined ? { preimage: rec.preimage, settledAt: rec.settledAt } : {}),
        expiresAt: rec.invoice.expiresAt
      })

    const makeWallet = (w: WalletRecord): Wallet.Service => {
      const ownInvoice = (op: string, paymentHash: Bolt11.PaymentHash) =>
        Effect.suspend(() => {
          const rec = invoices.get(paymentHash)
          return rec === undefined || rec.payee !== w.name
            ? Effect.fail(new WalletInvoiceNotFound({ op, paymentHash }))
            : Effect.succeed(rec)
        })

      const makeInvoice = Effect.fn("Wallet.makeInvoice")(function* (request: Wallet.MakeInvoice) {
        const op = "make_invoice"
        yield* online(w, op)
        if (!Number.isSafeInteger(request.amountMsat) || request.amountMsat < 1)
          return yield* new WalletPaymentFailed({
            op,
            reason: "InvalidInvoice",
            detail: `amountMsat: expected whole msat ≥ 1, got ${request.amountMsat}`
          })
        const expirySecs = request.expirySecs ?? defaultExpirySecs
        if (!Number.isSafeInteger(expirySecs) || expirySecs < 1)
          return yield* new WalletPaymentFailed({
            op,
            reason: "InvalidInvoice",
            detail: `expirySecs: expected whole seconds ≥ 1, got ${expirySecs}`
          })
        const createdAt = yield* nowSeconds
        const preimageHex = random32Hex()
        const paymentHash = Bolt11.PaymentHash.make(sha256Hex(preimageHex))
        const bolt11 = yield* Effect.try({
          try: () =>
            encodeSigned({
              amountMsat: request.amountMsat,
              timestamp: createdAt,
              paymentHashHex: paymentHash,
              paymentSecretHex: random32Hex(),
              description: request.description,
              expirySecs,
              nodePrivateKeyHex: w.nodeSecretKey
            }),
          catch: (cause) =>
            new WalletUnreachable({ op, reason: "Internal", detail: `cannot encode the invoice: ${String(cause)}` })
        })
        const invoice = new Wallet.Invoice({
          bolt11: Bolt11.Bolt11.make(bolt11),
          paymentHash,
          amountMsat: request.amountMsat,
          description: request.description,
          createdAt,
          expiresAt: UnixSeconds.make(createdAt + expirySecs)
        })
        const settled = yield* Deferred.make<void>()
        invoices.set(paymentHash, {
          payee: w.name,
          invoice,
          preimage: Bolt11.Preimage.make(preimageHex),
          settled,
          settledAt: undefined
        })
        return invoice
      })

      const lookupInvoice = Effect.fn("Wallet.lookupInvoice")(function* (paymentHash: Bolt11.PaymentHash) {
        yield* online(w, "lookup_invoice")
        const rec = yield* ownInvoice("lookup_invoice", paymentHash)
        return statusOf(rec, yield* nowSeconds)
      })

      const awaitSettlement = Effect.fn("Wallet.awaitSettlement")(function* (paymentHash: Bolt11.PaymentHash) {
        yield* online(w, "lookup_invoice")
        const rec = yield* ownInvoice("lookup_invoice", paymentHash)
        for (;;) {
          const nowMs = yield* Clock.currentTimeMillis
          const settlement = Wallet.toSettlement(statusOf(rec, UnixSeconds.make(Math.floor(nowMs / 1000))))
          if (settlement !== undefined) return settlement
          yield* Effect.race(
            Deferred.await(rec.settled),
            Effect.sleep(Duration.millis(Math.max(1, rec.invoice.expiresAt * 1000 - nowMs)))
          )
        }
      })

      const payInvoice = Effect.fn("Wallet.payInvoice")(function* (bolt11: string) {
        const op = "pay_invoice"
        yield* online(w, op)
        const decoded = yield* Bolt11.decode(bolt11)
        const amountMsat = decoded.amountMsat
        if (amountMsat === undefined || amountMsat < 1)
          return yield* new WalletPaymentFailed({ op, reason: "InvalidInvoice", detail: "the invoice has no amount" })
        const signer = yield* Effect.try({
          try: () => payeeNodeKey(decoded.bolt11),
          catch: () => new WalletPaymentFailed({ op, reason: "InvalidInvoice", detail: "bad invoice signature" })
        })
        const now = yield* nowSeconds
        const outcome = yield* Effect.suspend((): Effect.Effect<InvoiceRecord, WalletError> => {
          // Checks and transfer run in one synchronous step: no other payment interleaves.
          const rec = invoices.get(decoded.paymentHash)
          if (rec === undefined || rec.invoice.bolt11 !== decoded.bolt11)
            return Effect.fail(
              new WalletPaymentFailed({ op, reason: "Failed", detail: "no route: the network knows no such invoice" })
            )
          const payee = wallets.get(rec.payee)
          if (payee === undefined || payee.nodePubkey !== signer)
            return Effect.fail(
              new WalletPaymentFailed({ op, reason: "InvalidInvoice", detail: "not signed by the issuing node" })
            )
          if (rec.settledAt !== undefined)
            return Effect.fail(new WalletPaymentFailed({ op, reason: "AlreadyPaid", detail: "invoice already paid" }))
          if (now >= rec.invoice.expiresAt)
            return Effect.fail(
              new WalletPaymentFailed({ op, reason: "Expired", detail: `invoice expired at ${rec.invoice.expiresAt}` })
            )
          if (payee.name === w.name)
            return Effect.fail(new WalletPaymentFailed({ op, reason: "SelfPayment", detail: "cannot pay own invoice" }))
          if (payee.offline)
            return Effect.fail(new WalletPaymentFailed({ op, reason: "Failed", detail: "no route: payee offline" }))
          const total = BigInt(amountMsat) + feeMsat
          if (w.balanceMsat < total)
            return Effect.fail(
              new WalletInsufficientBalance({
                op,
                detail: `need ${total} msat (amount ${amountMsat} + fee ${feeMsat}), have ${w.balanceMsat} msat`
              })
            )
          w.balanceMsat -= total
          payee.balanceMsat += BigInt(amountMsat)
          rec.settledAt = now
          return Effect.succeed(rec)
        })
        yield* Deferred.succeed(outcome.settled, undefined)
        return new Wallet.Payment({
          paymentHash: decoded.paymentHash,
          preimage: outcome.preimage,
          amountMsat,
          feesPaidMsat: Msat.make(Number(feeMsat))
        })
      })

      const balance = online(w, "get_balance").pipe(
        Effect.zipRight(Effect.suspend(() => toMsat("get_balance", w.balanceMsat))),
        Effect.withSpan("Wallet.balance")
      )

      const info = online(w, "get_info").pipe(
        Effect.as(
          new Wallet.WalletInfo({
            walletType: "simulated",
            alias: w.name,
            network: "simulated",
            nodePubkey: w.nodePubkey,
            methods: [...METHODS]
          })
        )
      )

      return Wallet.Wallet.of({
        makeInvoice,
        lookupInvoice,
        awaitSettlement,
        settlement: Wallet.settlementStream(lookupInvoice, awaitSettlement),
        payInvoice,
        balance,
        info
      })
    }

    return {
      addWallet: (name, balanceMsat = 0) => Effect.sync(() => add(name, balanceMsat)),
      balanceOf: (name) => Effect.flatMap(record(name), (w) => toMsat("balance", w.balanceMsat).pipe(Effect.orDie)),
      setOffline: (name, offline) =>
        Effect.map(record(name), (w) => {
          w.offline = offline
        }),
      wallet: (name) => Effect.map(record(name), makeWallet),
      walletNames: Effect.sync(() => [...wallets.keys()])
    } satisfies Network
  })

/**
 * A network as a layer.
 * @category layers
 */
export const layerNetwork = (options: NetworkOptions = {}): Layer.Layer<SimulatedNetwork> =>
  Layer.effect(SimulatedNetwork, makeNetwork(options))

/**
 * The `Wallet` of `walletName` on `network`.
 * @category layers
 */
export const layerSimulated = (network: Network, walletName: string): Layer.Layer<Wallet.Wallet> =>
  Layer.effect(Wallet.Wallet, network.wallet(walletName))

/**
 * The `Wallet` of `walletName` on the network in context.
 * @category layers
 */
export const layer = (walletName: string): Layer.Layer<Wallet.Wallet, never, SimulatedNetwork> =>
  Layer.effect(
    Wallet.Wallet,
    Effect.flatMap(SimulatedNetwork, (network) => network.wallet(walletName))
  )
