/**
 * Invoices (rest-api.md §3 `POST /invoices/request`, `/invoices/pay`; protocol.md §5.8, §5.9, §10; differences.md
 * §b, §d, §f).
 *
 * - `request`: a 28008 to the recipient; the first 28009 whose `request.inner.request_id` matches becomes the
 *   stream's `invoice_response` (`payment_hash` `""` when the issuer gave none) if its BOLT11 decodes, has an amount
 *   and that amount is within ±1 msat of the expected msat (fiat converted with the rate we sent); otherwise
 *   `error` with the reference's messages. No answer by `content.expires_at`: `error` `"timeout"`. The pending
 *   request is an operation (`invoice_request`), resumed after a restart without re-sending.
 * - `pay`: the daemon's wallet pays a BOLT11; the preimage is checked against the invoice's payment hash by the
 *   wallet.
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import type * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import type { Amount, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import type * as Model from "@portal/store/Model"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Wallet from "@portal/wallet/Wallet"
import { type WalletError, WalletNotConfigured } from "@portal/wallet/WalletError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import * as Conversing from "./Conversing.js"
import * as Payments from "./Payments.js"
import type * as Rates from "./Rates.js"
import * as Streams from "./Streams.js"

/** @category models */
export interface RequestInput {
  readonly recipient: PublicKeyHex
  readonly subkeys: ReadonlyArray<PublicKeyHex>
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly expiresAt: UnixSeconds
  readonly description: Option.Option<string>
  readonly refundInvoice: Option.Option<string>
  readonly requestId: Option.Option<string>
}

/** @category models */
export interface Service {
  /** Stores and sends an invoice request; returns the stream id. */
  readonly request: (
    input: RequestInput
  ) => Effect.Effect<
    string,
    Payments.InvalidPaymentInput | Rates.RateUnsupported | Rates.RateUnavailable | StoreFailure
  >
  /** Pays an invoice with the daemon's wallet. */
  readonly pay: (invoice: string) => Effect.Effect<Wallet.Payment, WalletError>
}

/** @category tags */
export class Invoices extends Context.Tag("@portal/server/Invoices")<Invoices, Service>() {}

const operationKind = "invoice_request"

const Payload = Schema.Struct({ ...Conversing.Outgoing.fields, expectedMsat: Schema.Int })
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Payload)

/** The `invoice_response`, or the reference's `error` reason for an unacceptable invoice. */
export const check = (response: Messages.InvoiceResponse, expectedMsat: number): Effect.Effect<Model.NewEvent> =>
  Bolt11.decode(response.invoice).pipe(
    Effect.map((decoded): Model.NewEvent => {
      if (decoded.amountMsat === undefined || decoded.amountMsat === 0) {
        return { type: "error", data: { reason: "Invoice has no amount (zero-amount invoice not allowed)" } }
      }
      const diff = Math.abs(decoded.amountMsat - expectedMsat)
      if (diff > 1) {
        return {
          type: "error",
          data: {
            reason: `Invoice amount mismatch: got ${decoded.amountMsat} msat, expected ${expectedMsat} msat (diff: ${diff} msat)`
          }
        }
      }
      return {
        type: "invoice_response",
        data: { invoice: response.invoice, payment_hash: Option.getOrElse(response.paymentHash, () => "") }
      }
    }),
    Effect.catchTag("InvalidBolt11", (e) =>
      Effect.succeed<Model.NewEvent>({ type: "error", data: { reason: `Invalid invoice: ${e.detail}` } })
    )
  )

/**
 * Builds the service and resumes pending requests.
 * @category constructors
 */
export const make = (options: { readonly walletConfigured: boolean }) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const payments = yield* Payments.Payments
    const wallet = yield* Wallet.Wallet
    const requests = yield* Conversing.singleReply({
      store,
      streams,
      conversations,
      ownership: yield* Conversing.Ownership,
      kind: operationKind,
      decode: decodePayload,
      replyKinds: [28009],
      reply: Messages.InvoiceResponse,
      matches: (payload, reply) => reply.request.inner.requestId === payload.requestId,
      answer: (payload, reply) => check(reply.message, payload.expectedMsat),
      failure: "Failed to request invoice",
      span: "Invoices.run"
    })

    const request: Service["request"] = (input) =>
      Effect.gen(function* () {
        const nowMillis = DateTime.toEpochMillis(yield* DateTime.now)
        if (input.expiresAt * 1000 <= nowMillis) {
          return yield* new Payments.InvalidPaymentInput({
            field: "content.expires_at",
            detail: "must be in the future"
          })
        }
        const { msat, rate } = yield* payments.price(input.amount, input.currency)
        const requestId = Option.getOrElse(input.requestId, () => randomUUID())
        const content = yield* Messages.encodeContent(Messages.InvoiceRequestContent, {
          requestId,
          amount: input.amount,
          currency: input.currency,
          currentExchangeRate: rate,
          expiresAt: input.expiresAt,
          description: input.description,
          refundInvoice: input.refundInvoice
        }).pipe(Effect.mapError((e) => new Payments.InvalidPaymentInput({ field: "content", detail: e.message })))
        const payload: Payload = {
          mainKey: input.recipient,
          subkeys: input.subkeys.filter((key) => key !== input.recipient),
          kind: 28008,
          content,
          requestId,
          published: false,
          expectedMsat: msat
        }
        return yield* requests.start(payload, DateTime.unsafeMake(Math.min(input.expiresAt, 8_000_000_000_000) * 1000))
      }).pipe(Effect.withSpan("Invoices.request"))

    const pay: Service["pay"] = (invoice) =>
      options.walletConfigured
        ? wallet.payInvoice(invoice).pipe(Effect.withSpan("Invoices.pay"))
        : Effect.fail(new WalletNotConfigured({ op: "pay_invoice" }))

    return Invoices.of({ request, pay })
  })

/** @category layers */
export const layer = (options: {
  readonly walletConfigured: boolean
}): Layer.Layer<
  Invoices,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | Payments.Payments | Wallet.Wallet | Conversing.Ownership
> => Layer.scoped(Invoices, make(options))
