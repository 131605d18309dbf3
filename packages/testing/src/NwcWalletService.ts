/**
 * A real NIP-47 wallet service for tests and the sandbox (spec: ecosystem.md §8): `@getalby/sdk`'s
 * `NWCWalletService` on the loopback relay, answering `get_info`, `get_balance`, `make_invoice`, `pay_invoice` and
 * `lookup_invoice` from a backing `Wallet` (normally a `SimulatedLightning` wallet). The daemon's `nwc` backend
 * is thereby exercised over real Nostr: real 13194/23194/23195 events, NIP-44 (or NIP-04) encryption.
 *
 * It publishes its 13194 info event (encryption `nip44_v2 nip04`, or only `nip04` with `encryption: "nip04"`) and
 * exposes the connection URL `nostr+walletconnect://<wallet>?relay=…&secret=…` as `Redacted` (it holds the client
 * secret). Wallet errors become NIP-47 error codes (`WalletInsufficientBalance` → `INSUFFICIENT_BALANCE`, …);
 * `failNext` makes the next request fail with any code, to test a client's mapping of every code.
 *
 * The sdk's close pitfall: closing right after a reply leaves the reply's un-awaited publish to reject with
 * "relay connection closed by us", an unhandled rejection. Here every publish of the service's pool is wrapped so
 * that it never rejects, in-flight requests are counted, and the finalizer unsubscribes, waits for them and for
 * the outstanding publishes, then closes.
 *
 * A private test helper: its error lives here, not in a package-wide module.
 *
 * @since 0.1.0
 */
import { NWCWalletService, NWCWalletServiceKeyPair } from "@getalby/sdk/nwc"
import type { NWCWalletServiceRequestHandler, NWCWalletServiceResponse, Nip47Transaction } from "@getalby/sdk/nwc"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import { type WalletError, WalletPaymentFailed } from "@portal/wallet/WalletError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { bytesToHex } from "nostr-tools/utils"
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure"
import * as TestRelay from "./TestRelay.js"

/**
 * The service could not start: relay unreachable, info event not published, subscription refused.
 * @category errors
 */
export class NwcWalletServiceError extends Schema.TaggedError<NwcWalletServiceError>()("NwcWalletServiceError", {
  reason: Schema.Literal("Start"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `nwc wallet service: ${this.reason}: ${this.detail}`
  }
}

/**
 * A running wallet service.
 * @category models
 */
export interface Service {
  /** `nostr+walletconnect://<wallet pubkey>?relay=<relay>&secret=<client secret>`: what `wallet.nwc.url` takes. */
  readonly url: Redacted.Redacted<string>
  readonly walletPubkey: string
  readonly clientPubkey: string
  /** Requests handled so far (each method call counts once). */
  readonly requests: Effect.Effect<number>
  /** The next request, whatever its method, is answered with this NIP-47 error code instead. */
  readonly failNext: (code: string, message?: string) => Effect.Effect<void>
}

/** @category tags */
export class NwcWalletService extends Context.Tag("@portal/testing/NwcWalletService")<NwcWalletService, Service>() {}

/**
 * Options of `make`.
 * @category models
 */
export interface Options {
  readonly relayUrl: string
  /** The wallet that answers. */
  readonly wallet: Wallet.Service
  /** Encryptions announced in the 13194 info event. Default both (the client then picks NIP-44). */
  readonly encryption?: "nip44_v2 nip04" | "nip04"
}

const METHODS = ["get_info", "get_balance", "make_invoice", "pay_invoice", "lookup_invoice"] as const

/** The NIP-47 error code for a wallet error. */
export const nip47Code = (error: WalletError): string => {
  switch (error._tag) {
    case "WalletInsufficientBalance":
      return "INSUFFICIENT_BALANCE"
    case "WalletPaymentFailed":
      return error.reason === "QuotaExceeded" ? "QUOTA_EXCEEDED" : "PAYMENT_FAILED"
    case "WalletNotSupported":
      return error.reason === "Restricted"
        ? "RESTRICTED"
        : error.reason === "Encryption"
          ? "UNSUPPORTED_ENCRYPTION"
          : "NOT_IMPLEMENTED"
    case "WalletInvoiceNotFound":
      return "NOT_FOUND"
    case "WalletUnreachable":
      return error.reason === "Unauthorized"
        ? "UNAUTHORIZED"
        : error.reason === "RateLimited"
          ? "RATE_LIMITED"
          : "INTERNAL"
    case "InvalidBolt11":
      return "OTHER"
    default:
      return "INTERNAL"
  }
}

const transaction = (invoice: Wallet.Invoice | undefined, status: Wallet.InvoiceStatus): Nip47Transaction => ({
  type: "incoming",
  state: status.state === "settled" ? "settled" : status.state === "expired" ? "failed" : "pending",
  invoice: invoice?.bolt11 ?? "",
  description: invoice?.description ?? "",
  description_hash: "",
  preimage: status.preimage ?? "",
  payment_hash: status.paymentHash,
  amount: status.amountMsat,
  fees_paid: 0,
  settled_at: status.settledAt ?? 0,
  created_at: invoice?.createdAt ?? 0,
  expires_at: status.expiresAt
})

const start = (cause: unknown, detail: string) => new NwcWalletServiceError({ reason: "Start", detail, cause })

/**
 * Starts a wallet service on `relayUrl` for one client connection; stops with the scope.
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, NwcWalletServiceError, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const walletSecret = bytesToHex(generateSecretKey())
    const clientSecret = bytesToHex(generateSecretKey())
    const walletPubkey = getPublicKey(Buffer.from(walletSecret, "hex"))
    const clientPubkey = getPublicKey(Buffer.from(clientSecret, "hex"))
    const invoices = new Map<string, Wallet.Invoice>()
    const pendingPublishes = new Set<Promise<unknown>>()
    let inFlight = 0
    let handled = 0
    let injected: { readonly code: string; readonly message: string } | undefined

    const service = yield* Effect.try({
      try: () => new NWCWalletService({ relayUrls: [options.relayUrl] }),
      catch: (cause) => start(cause, "cannot create the service")
    })
    // Every publish of this pool resolves (to the failure reason when it fails) and is tracked until settled.
    const publish = service.pool.publish.bind(service.pool)
    service.pool.publish = (relays, event, params) =>
      publish(relays, event, params).map((promise) => {
        const settled = promise.then(
          (ok) => ok,
          (reason: unknown) => `publish failed: ${String(reason)}`
        )
        pendingPublishes.add(settled)
        void settled.finally(() => pendingPublishes.delete(settled))
        return settled
      })

    const answer = <A>(effect: Effect.Effect<A, WalletError>): Promise<NWCWalletServiceResponse<A>> => {
      inFlight++
      handled++
      const failure = injected
      injected = undefined
      const run: Effect.Effect<NWCWalletServiceResponse<A>> =
        failure !== undefined
          ? Effect.succeed({ result: undefined, error: failure })
          : Effect.match(effect, {
              onFailure: (error) => ({ result: undefined, error: { code: nip47Code(error), message: error.message } }),
              onSuccess: (result) => ({ result, error: undefined })
            })
      return Runtime.runPromiseExit(runtime)(run).then((exit) => {
        // The reply is published a few microtasks later; the finalizer also waits for the pool's publishes.
        setTimeout(() => inFlight--, 0)
        return Exit.isSuccess(exit)
          ? exit.value
          : { result: undefined, error: { code: "INTERNAL", message: "wallet service defect" } }
      })
    }

    const wallet = options.wallet
    const handler: NWCWalletServiceRequestHandler = {
      getInfo: () =>
        answer(
          Effect.map(wallet.info, (info) => ({
            alias: info.alias ?? "simulated",
            color: "#000000",
            pubkey: info.nodePubkey ?? "",
            network: "regtest",
            block_height: 0,
            block_hash: "",
            methods: [...METHODS],
            notifications: []
          }))
        ),
      getBalance: () => answer(Effect.map(wallet.balance, (balance) => ({ balance }))),
      makeInvoice: (request) =>
        answer(
          Effect.gen(function* () {
            const amountMsat = yield* Schema.decodeUnknown(Wallet.Invoice.fields.amountMsat)(request.amount).pipe(
              Effect.orElseFail(
                () =>
                  new WalletPaymentFailed({
                    op: "make_invoice",
                    reason: "InvalidInvoice",
                    detail: `amount: expected whole msat ≥ 0, got ${request.amount}`
                  })
              )
            )
            const invoice = yield* wallet.makeInvoice({
              amountMsat,
              description: request.description ?? "",
              ...(request.expiry === undefined ? {} : { expirySecs: request.expiry })
            })
            invoices.set(invoice.paymentHash, invoice)
            const status = yield* wallet.lookupInvoice(invoice.paymentHash)
            return transaction(invoice, status)
          })
        ),
      payInvoice: (request) =>
        answer(
          Effect.map(wallet.payInvoice(request.invoice), (payment) => ({
            preimage: payment.preimage,
            fees_paid: payment.feesPaidMsat
          }))
        ),
      lookupInvoice: (request) =>
        answer(
          Effect.gen(function* () {
            const hash = request.payment_hash ?? (yield* Bolt11.decode(request.invoice ?? "")).paymentHash
            const status = yield* wallet.lookupInvoice(Bolt11.PaymentHash.make(hash))
            return transaction(invoices.get(hash), status)
          })
        )
    }

    const keypair = new NWCWalletServiceKeyPair(walletSecret, clientPubkey)
    if (options.encryption === "nip04") {
      const now = yield* Clock.currentTimeMillis
      const info = finalizeEvent(
        {
          kind: 13194,
          created_at: Math.floor(now / 1000),
          tags: [["encryption", "nip04"]],
          content: METHODS.join(" ")
        },
        Buffer.from(walletSecret, "hex")
      )
      yield* Effect.tryPromise({
        try: () => Promise.any(service.pool.publish([options.relayUrl], info)),
        catch: (cause) => start(cause, "cannot publish the 13194 info event")
      })
    } else {
      yield* Effect.tryPromise({
        try: () => service.publishWalletServiceInfoEvent(walletSecret, [...METHODS], []),
        catch: (cause) => start(cause, "cannot publish the 13194 info event")
      })
    }
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => service.subscribe(keypair, handler),
        catch: (cause) => start(cause, "cannot subscribe to requests")
      }),
      (unsubscribe) =>
        Effect.gen(function* () {
          unsubscribe()
          const quiet = Effect.suspend(() =>
            inFlight === 0 && pendingPublishes.size === 0 ? Effect.void : Effect.fail("busy" as const)
          )
          yield* quiet.pipe(Effect.retry({ times: 200, schedule: Schedule.spaced("10 millis") }), Effect.ignore)
          yield* Effect.promise(() => Promise.allSettled(pendingPublishes))
          service.close()
        })
    )

    return {
      url: Redacted.make(
        `nostr+walletconnect://${walletPubkey}?relay=${encodeURIComponent(options.relayUrl)}&secret=${clientSecret}`
      ),
      walletPubkey,
      clientPubkey,
      requests: Effect.sync(() => handled),
      failNext: (code, message = `injected ${code}`) =>
        Effect.sync(() => {
          injected = { code, message }
        })
    } satisfies Service
  })

/**
 * A wallet service on the test relay answering for `wallet`.
 * @category layers
 */
export const layerWallet = (
  wallet: Wallet.Service,
  options: { readonly encryption?: "nip44_v2 nip04" | "nip04" } = {}
): Layer.Layer<NwcWalletService, NwcWalletServiceError, TestRelay.TestRelay> =>
  Layer.scoped(
    NwcWalletService,
    Effect.flatMap(TestRelay.TestRelay, (relay) => make({ relayUrl: relay.url, wallet, ...options }))
  )

/**
 * A wallet service on the test relay answering for the simulated wallet `walletName`.
 * @category layers
 */
export const layer = (
  walletName: string,
  options: { readonly encryption?: "nip44_v2 nip04" | "nip04" } = {}
): Layer.Layer<NwcWalletService, NwcWalletServiceError, TestRelay.TestRelay | SimulatedLightning.SimulatedNetwork> =>
  Layer.scoped(
    NwcWalletService,
    Effect.gen(function* () {
      const relay = yield* TestRelay.TestRelay
      const network = yield* SimulatedLightning.SimulatedNetwork
      return yield* make({ relayUrl: relay.url, wallet: yield* network.wallet(walletName), ...options })
    })
  )
