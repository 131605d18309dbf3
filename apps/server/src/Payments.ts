/**
 * Single and raw payment requests (rest-api.md §3 `POST /payments/single`, `/payments/raw`, §4.4; protocol.md §5.4,
 * §5.5, §8; differences.md §b, §d, §f).
 *
 * Single: fiat is priced with `Rates` (the rate is sent in `current_exchange_rate` and recorded in every event), the
 * daemon's `Wallet` makes the invoice (expiring with the request), the 28000 request goes to the user's main key and
 * subkeys, and the `single_payment` stream gets:
 * - each user status (`user_approved`, `user_success`, `user_failed`, `user_rejected`; a repeat of the last
 *   non-final one is skipped);
 * - `paid` with the preimage only when the daemon's own wallet reports the invoice settled and sha256(preimage) is
 *   the payment hash (never on the user's word); monitoring starts at the first `approved` or `success`;
 * - `timeout` at `expires_at` (now + 300 s) after one last look at the invoice (`paid` if it settled meanwhile);
 * - `error` when the wallet fails while monitoring.
 * A final user status finishes the stream only when no monitoring runs; otherwise `paid`/`timeout`/`error` follows.
 *
 * Raw: the caller's content is sent as is (no invoice monitoring); the stream finishes at the first final user
 * status or `timeout` at `expires_at`.
 *
 * Every `payment_status_update` also carries `exchange_rate` (the request's `current_exchange_rate`, `null` for
 * Millisats) and `subscription_id` (the request's, `null` when none; a billed subscription period has it).
 *
 * Every request is an operation in the store (`single_payment` / `raw_payment`, keyed by stream id: recipient,
 * content, whether it was published, the invoice's hash, the last status, whether monitoring runs, deadline). On
 * startup each resumes (listening for replies without re-sending; monitoring resumed) or ends with a terminal
 * `payment_status_update`.
 *
 * @since 0.1.0
 */
import { EventExchangeRate } from "@portal/api/Events"
import * as Conversation from "@portal/nostr/Conversation"
import * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import { type Amount, Msat, type PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Wallet from "@portal/wallet/Wallet"
import type { WalletError } from "@portal/wallet/WalletError"
import { WalletNotConfigured } from "@portal/wallet/WalletError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as Conversing from "./Conversing.js"
import * as Rates from "./Rates.js"
import * as Streams from "./Streams.js"

/**
 * A request field that is well-formed but not acceptable (a deadline in the past, an amount too large in msat).
 * @category errors
 */
export class InvalidPaymentInput extends Schema.TaggedError<InvalidPaymentInput>()("InvalidPaymentInput", {
  field: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.field}: ${this.detail}`
  }
}

/**
 * The wallet could not make the invoice.
 * @category errors
 */
export class InvoiceFailed extends Schema.TaggedError<InvoiceFailed>()("InvoiceFailed", {
  detail: Schema.String
}) {
  override get message() {
    return `Failed to make invoice: ${this.detail}`
  }
}

/** @category models */
export interface SingleInput {
  readonly mainKey: PublicKeyHex
  readonly subkeys: ReadonlyArray<PublicKeyHex>
  readonly description: string
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly authToken: Option.Option<string>
  readonly subscriptionId: Option.Option<string>
  readonly requestId: Option.Option<string>
  /** Use this stream id (recurring billing reserves it before sending); default a fresh UUID. */
  readonly streamId?: string | undefined
}

/** @category models */
export interface RawInput {
  readonly mainKey: PublicKeyHex
  readonly subkeys: ReadonlyArray<PublicKeyHex>
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly invoice: string
  readonly expiresAt: Option.Option<UnixSeconds>
  readonly requestId: Option.Option<string>
  readonly currentExchangeRate: Option.Option<Currency.ExchangeRate>
  readonly authToken: Option.Option<string>
  readonly subscriptionId: Option.Option<string>
  readonly description: Option.Option<string>
}

/** @category models */
export type SingleError =
  | WalletNotConfigured
  | Rates.RateUnsupported
  | Rates.RateUnavailable
  | InvalidPaymentInput
  | InvoiceFailed
  | StoreFailure

/** @category models */
export interface Service {
  /** Whether a wallet backend is configured (`wallet.ln_backend` is not `none`). */
  readonly walletConfigured: boolean
  /** Prices, invoices, stores and sends a single payment request; returns the stream id. */
  readonly single: (input: SingleInput) => Effect.Effect<string, SingleError>
  /** Sends a caller-built payment request; returns the stream id. */
  readonly raw: (input: RawInput) => Effect.Effect<string, InvalidPaymentInput | StoreFailure>
  /** The msat value of an amount (fiat priced now) and the rate used. */
  readonly price: (
    amount: Amount,
    currency: Currency.Currency
  ) => Effect.Effect<
    { readonly msat: Msat; readonly rate: Option.Option<Currency.ExchangeRate> },
    Rates.RateUnsupported | Rates.RateUnavailable | InvalidPaymentInput
  >
}

/** @category tags */
export class Payments extends Context.Tag("@portal/server/Payments")<Payments, Service>() {}

/** @category options */
export interface Options {
  /** `wallet.ln_backend` is not `none`. */
  readonly walletConfigured: boolean
  /** Lifetime of a single payment request (default 300 s). */
  readonly timeout?: Duration.DurationInput | undefined
}

const singleKind = "single_payment"
const rawKind = "raw_payment"

const Payload = Schema.Struct({
  ...Conversing.Outgoing.fields,
  /** The invoice watched (single payments only). */
  paymentHash: Schema.optional(Bolt11.PaymentHash),
  lastStatus: Schema.optional(Schema.String),
  monitoring: Schema.Boolean,
  /** What every status event carries besides the status (absent in operations stored by older versions). */
  exchangeRate: Schema.optional(Schema.NullOr(EventExchangeRate)),
  subscriptionId: Schema.optional(Schema.NullOr(Schema.String))
})
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Payload)

type WireRate = typeof EventExchangeRate.Type

/** The wire form of a rate, as `payment_status_update.exchange_rate` carries it. */
const wireRate = (rate: Option.Option<Currency.ExchangeRate>): WireRate | null =>
  Option.match(rate, {
    onNone: () => null,
    onSome: (r) => ({ rate: r.rate, source: r.source, time: String(r.time) })
  })

/**
 * A `payment_status_update` of a payment: the status, the rate its request carried and its subscription.
 * @category events
 */
export const statusEvent = (
  context: { readonly exchangeRate?: WireRate | null | undefined; readonly subscriptionId?: string | null | undefined },
  status: Record<string, unknown>
) => ({
  type: "payment_status_update",
  data: { status, exchange_rate: context.exchangeRate ?? null, subscription_id: context.subscriptionId ?? null }
})

/** The wire status of a user reply (rest-api.md §4.3). */
const userStatus = (status: Messages.PaymentStatus): Record<string, unknown> => {
  switch (status._tag) {
    case "Approved":
      return { status: "user_approved" }
    case "Success":
      return { status: "user_success", preimage: Option.getOrNull(status.preimage) }
    case "Rejected":
      return { status: "user_rejected", reason: Option.getOrNull(status.reason) }
    case "Failed":
      return { status: "user_failed", reason: Option.getOrNull(status.reason) }
  }
}

const isFinalStatus = (status: Messages.PaymentStatus) => status._tag !== "Approved"

/** Settled with a verified preimage → `paid`; anything else → `timeout`. */
const settledStatus = (status: Wallet.InvoiceStatus): Record<string, unknown> =>
  status.state === "settled" &&
  status.preimage !== undefined &&
  Bolt11.preimageMatches(status.preimage, status.paymentHash)
    ? { status: "paid", preimage: status.preimage }
    : { status: "timeout" }

const walletErrorStatus = (e: WalletError) => ({ status: "error", reason: e.message })

/**
 * Builds the service and resumes the stored payments.
 * @category constructors
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const wallet = yield* Wallet.Wallet
    const rates = yield* Rates.Rates
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(300))
    const ownership = yield* Conversing.Ownership

    const price: Service["price"] = (amount, currency) =>
      Currency.isMillisats(currency)
        ? Effect.succeed({ msat: Msat.make(amount), rate: Option.none() })
        : Effect.gen(function* () {
            const rate = yield* rates.quote(currency.code)
            const msat = yield* Currency.fiatToMsat(amount, rate.rate).pipe(
              Effect.mapError((e) => new InvalidPaymentInput({ field: "amount", detail: e.message }))
            )
            if (msat <= 0) {
              return yield* new InvalidPaymentInput({
                field: "amount",
                detail: `${amount} cents of ${currency.code} is less than 1 msat at ${rate.rate}`
              })
            }
            return { msat, rate: Option.some(rate) }
          })

    /** Runs a stored payment until its terminal event; removes its operation then. */
    const run = (opKind: string, streamId: string, payload: Payload, deadline: DateTime.Utc) =>
      Effect.gen(function* () {
        const lock = yield* Effect.makeSemaphore(1)
        const done = yield* Deferred.make<void>()
        const state = { last: payload.lastStatus, monitoring: payload.monitoring, current: payload }
        const persist = (patch: Partial<Payload>) =>
          Effect.suspend(() => {
            state.current = { ...state.current, ...patch }
            return store.putOperation({ kind: opKind, id: streamId, streamId, payload: state.current, deadline })
          })
        /** The terminal event from monitoring or the deadline. */
        const end = (status: Record<string, unknown>) =>
          Conversing.appendQuietly(streams, streamId, statusEvent(payload, status)).pipe(
            Effect.zipRight(Deferred.succeed(done, undefined)),
            lock.withPermits(1)
          )
        const monitor = (hash: Bolt11.PaymentHash) =>
          wallet.awaitSettlement(hash).pipe(
            Effect.matchEffect({
              onFailure: (e) => end(walletErrorStatus(e)),
              onSuccess: (settlement) =>
                settlement._tag === "Settled" && Bolt11.preimageMatches(settlement.preimage, hash)
                  ? end({ status: "paid", preimage: settlement.preimage })
                  : end({ status: "timeout" })
            })
          )
        const startMonitor = Effect.gen(function* () {
          if (payload.paymentHash === undefined || state.monitoring) return
          state.monitoring = true
          yield* persist({ monitoring: true })
          yield* Effect.forkScoped(monitor(payload.paymentHash))
        })
        if (payload.monitoring && payload.paymentHash !== undefined) {
          yield* Effect.forkScoped(monitor(payload.paymentHash))
        }

        const onReply = (reply: Conversation.Reply<Messages.PaymentResponseContent>) =>
          Effect.gen(function* () {
            if (yield* Deferred.isDone(done)) return
            const status = reply.message.status
            // a repeat of the last non-final status is skipped (protocol.md §8 step 5)
            if (status._tag === "Approved" && state.last === "Approved") return
            state.last = status._tag
            if (status._tag === "Approved" || status._tag === "Success") yield* startMonitor
            const final = isFinalStatus(status)
            const finish = final && state.monitoring ? ("never" as const) : undefined
            yield* Conversing.appendQuietly(streams, streamId, statusEvent(payload, userStatus(status)), finish)
            yield* persist({ lastStatus: status._tag })
            if (final && !state.monitoring) yield* Deferred.succeed(done, undefined)
          }).pipe(lock.withPermits(1))

        const replies = yield* Conversing.replies(conversations, {
          outgoing: payload,
          deadline,
          replyKinds: [28001, 28002],
          reply: Messages.PaymentResponseContent,
          matches: (reply) => reply.requestId === payload.requestId,
          isFinal: (reply) => isFinalStatus(reply.status),
          onPublished: persist({ published: true })
        })
        yield* replies.pipe(Stream.runForEach(onReply), Effect.forkScoped)
        const left = yield* Conversing.remaining(deadline)
        const finished = yield* Deferred.await(done).pipe(
          Effect.timeoutTo({ duration: left, onTimeout: () => false, onSuccess: () => true })
        )
        if (!finished) {
          // the deadline: one last look at the invoice, else timeout
          const status =
            payload.paymentHash === undefined
              ? { status: "timeout" }
              : yield* wallet.lookupInvoice(payload.paymentHash).pipe(
                  Effect.map(settledStatus),
                  Effect.orElseSucceed(() => ({ status: "timeout" }))
                )
          yield* end(status)
        }
        yield* store.deleteOperation(opKind, streamId)
      }).pipe(
        Effect.scoped,
        Effect.catchTags({
          SignerError: (e) => failWith(opKind, streamId, `Failed to request payment: ${e.message}`, payload),
          EncryptionError: (e) => failWith(opKind, streamId, `Failed to request payment: ${e.message}`, payload)
        }),
        Effect.catchAllCause((cause) => Effect.logError("payment failed", cause)),
        Effect.withSpan("Payments.run", { attributes: { streamId, opKind } })
      )

    const failWith = (opKind: string, streamId: string, reason: string, payload: Partial<Payload> = {}) =>
      Conversing.appendQuietly(streams, streamId, statusEvent(payload, { status: "error", reason })).pipe(
        Effect.zipRight(store.deleteOperation(opKind, streamId))
      )

    // ---- ownership and recovery (differences.md §f, §o) ----------------------------------------------------------
    // (an operation past its deadline resumes too: run() goes straight to the last look at the invoice)
    const ownKind = (opKind: string) =>
      Conversing.own({
        store,
        streams,
        ownership,
        kind: opKind,
        what: "payment",
        decode: decodePayload,
        fail: (operation, reason) => failWith(opKind, operation.streamId, reason),
        resume: (operation, payload, owned) =>
          Option.isNone(operation.deadline)
            ? failWith(opKind, operation.streamId, "interrupted by restart: unreadable payment state", payload)
            : payload.paymentHash !== undefined && !options.walletConfigured
              ? failWith(opKind, operation.streamId, "interrupted by restart: no wallet configured", payload)
              : owned.launch(operation.id, run(opKind, operation.streamId, payload, operation.deadline.value))
      })
    const singles = yield* ownKind(singleKind)
    const raws = yield* ownKind(rawKind)

    /** Stores the stream and its operation (leased here) in one transaction, then runs it. */
    const start = (opKind: string, streamId: string | undefined, payload: Payload, deadline: DateTime.Utc) =>
      (opKind === singleKind ? singles : raws).startStream({ streamId, payload, deadline }, (id) =>
        run(opKind, id, payload, deadline)
      )

    const single: Service["single"] = (input) =>
      Effect.gen(function* () {
        if (!options.walletConfigured) return yield* new WalletNotConfigured({ op: "make_invoice" })
        const { msat, rate } = yield* price(input.amount, input.currency)
        const invoice = yield* wallet
          .makeInvoice({
            amountMsat: msat,
            description: input.description,
            expirySecs: Math.ceil(Duration.toSeconds(timeout))
          })
          .pipe(
            Effect.mapError((e) => (e._tag === "WalletNotConfigured" ? e : new InvoiceFailed({ detail: e.message })))
          )
        const nowMillis = DateTime.toEpochMillis(yield* DateTime.now)
        const deadline = DateTime.unsafeMake(nowMillis + Duration.toMillis(timeout))
        const requestId = Option.getOrElse(input.requestId, () => randomUUID())
        const content = yield* Messages.encodeContent(Messages.SinglePaymentRequest, {
          _tag: "Single" as const,
          amount: input.amount,
          currency: input.currency,
          currentExchangeRate: rate,
          invoice: invoice.bolt11,
          authToken: input.authToken,
          expiresAt: UnixSeconds.make(Math.floor(DateTime.toEpochMillis(deadline) / 1000)),
          subscriptionId: input.subscriptionId,
          description: Option.some(input.description),
          requestId
        }).pipe(Effect.mapError((e) => new InvalidPaymentInput({ field: "payment_request", detail: e.message })))
        const streamId = yield* start(
          singleKind,
          input.streamId,
          {
            mainKey: input.mainKey,
            subkeys: input.subkeys.filter((key) => key !== input.mainKey),
            kind: 28000,
            content,
            requestId,
            published: false,
            paymentHash: invoice.paymentHash,
            monitoring: false,
            exchangeRate: wireRate(rate),
            subscriptionId: Option.getOrNull(input.subscriptionId)
          },
          deadline
        )
        // the rate used travels in the request (current_exchange_rate) and is recorded in every status event
        yield* Effect.logInfo("single payment requested").pipe(
          Effect.annotateLogs({
            streamId,
            requestId,
            amount: input.amount,
            currency: Currency.isMillisats(input.currency) ? "Millisats" : input.currency.code,
            msat,
            paymentHash: invoice.paymentHash,
            ...Option.match(rate, {
              onNone: () => ({}),
              onSome: (r) => ({ rate: r.rate, rateSource: r.source, rateTime: r.time })
            })
          })
        )
        return streamId
      }).pipe(Effect.withSpan("Payments.single"))

    const raw: Service["raw"] = (input) =>
      Effect.gen(function* () {
        const nowMillis = DateTime.toEpochMillis(yield* DateTime.now)
        const expiresAt = Option.getOrElse(input.expiresAt, () =>
          UnixSeconds.make(Math.floor((nowMillis + Duration.toMillis(timeout)) / 1000))
        )
        if (expiresAt * 1000 <= nowMillis) {
          return yield* new InvalidPaymentInput({
            field: "payment_request.expires_at",
            detail: "must be in the future"
          })
        }
        const requestId = Option.getOrElse(input.requestId, () => randomUUID())
        const content = yield* Messages.encodeContent(Messages.SinglePaymentRequest, {
          _tag: "Single" as const,
          amount: input.amount,
          currency: input.currency,
          currentExchangeRate: input.currentExchangeRate,
          invoice: input.invoice,
          authToken: input.authToken,
          expiresAt,
          subscriptionId: input.subscriptionId,
          description: input.description,
          requestId
        }).pipe(Effect.mapError((e) => new InvalidPaymentInput({ field: "payment_request", detail: e.message })))
        return yield* start(
          rawKind,
          undefined,
          {
            mainKey: input.mainKey,
            subkeys: input.subkeys.filter((key) => key !== input.mainKey),
            kind: 28000,
            content,
            requestId,
            published: false,
            monitoring: false,
            exchangeRate: wireRate(input.currentExchangeRate),
            subscriptionId: Option.getOrNull(input.subscriptionId)
          },
          DateTime.unsafeMake(Math.min(expiresAt, 8_000_000_000_000) * 1000)
        )
      }).pipe(Effect.withSpan("Payments.raw"))

    return Payments.of({ walletConfigured: options.walletConfigured, single, raw, price })
  })

/** @category layers */
export const layer = (
  options: Options
): Layer.Layer<
  Payments,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | Wallet.Wallet | Rates.Rates | Conversing.Ownership
> => Layer.scoped(Payments, make(options))
