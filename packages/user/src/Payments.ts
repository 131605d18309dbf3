/**
 * Single payment requests from the user's side (protocol.md §5.4, §5.5, §8, §20.2): the 28000 requests a service
 * sends as the user sees them, the decisions a policy takes about them, what came of an answer, and ready-made
 * policies.
 *
 * A request reaches a policy only after the checks the Portal app makes: addressed to us, decrypted and decoded
 * (`payment_type:"Single"`), not expired (`expires_at ≥ now`), an amount above 0, and an invoice that decodes, has an
 * amount, and matches the requested amount within 1 % (invoices ≤ 10 000 000 msat) or 0.5 % (larger). For fiat the
 * requested msat are computed with the request's `current_exchange_rate`. The service is the signing key (payment
 * requests carry no subkey proof), and replies go to it.
 *
 * Requests carrying a `subscription_id` (billed periods of a subscription the user authorised, §9.3) never reach
 * the payment policy: they are paid automatically when they fall within the authorisation (see `Recurring`).
 *
 * The answers follow the app: `approved`, then the user's own `Wallet` pays the invoice and the service gets
 * `success{preimage}` or `failed{"Payment failed: …"}`; a refusal is `rejected{"User rejected"}` alone.
 *
 * Not done as the app does, on purpose:
 * - an invoice that does not match the amount, an unparseable invoice or a fiat amount without a rate gets a
 *   `rejected{reason}` reply; the app drops the first and the last silently (its defects, §20.5);
 * - `success` carries the real preimage of the payment (the app sends `""` after a manual approval);
 * - fiat is converted with the request's rate, not with a market rate of the user's own.
 *
 * @since 0.1.0
 */
import type * as Event from "@portal/nostr/Event"
import type * as Currency from "@portal/protocol/Currency"
import type * as Messages from "@portal/protocol/Messages"
import type { Amount, Msat, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import type * as Bolt11 from "@portal/wallet/Bolt11"
import type * as Wallet from "@portal/wallet/Wallet"
import type { WalletError } from "@portal/wallet/WalletError"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"

/**
 * What the Portal app answers when the user declines a payment.
 * @category constants
 */
export const DEFAULT_REJECT_REASON = "User rejected"

/**
 * The prefix of the app's `failed` reason when its wallet could not pay.
 * @category constants
 */
export const PAYMENT_FAILED_PREFIX = "Payment failed: "

/**
 * A single payment request (kind 28000) that passed every check (see the module comment).
 * @category models
 */
export interface PaymentRequest {
  /** The 28000 event's id: the identity of the request (one answer per id). */
  readonly eventId: string
  /** The service: the key that signed the request. Replies are encrypted to it. */
  readonly serviceKey: PublicKeyHex
  readonly requestId: string
  /** msat, or fiat minor units (cents) per `currency`. */
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly exchangeRate: Option.Option<Currency.ExchangeRate>
  /** The requested amount in msat (for fiat: converted with `exchangeRate`). */
  readonly amountMsat: Msat
  /** The invoice to pay, decoded; its amount matches `amountMsat` within the app's tolerance. */
  readonly invoice: Bolt11.DecodedInvoice
  readonly expiresAt: UnixSeconds
  /** Set on a billed period of a subscription (§9.4); such requests are paid automatically, never asked. */
  readonly subscriptionId: Option.Option<string>
  readonly description: Option.Option<string>
  readonly authToken: Option.Option<string>
  /** The decoded content, as received. */
  readonly content: Messages.SinglePaymentRequest
  readonly event: Event.NostrEvent
}

/**
 * What to do with a payment request.
 * - `Approve`: reply `approved`, pay the invoice with the user's wallet, then reply `success{preimage}` or
 *   `failed{"Payment failed: …"}`. For a billed period the subscription's checks run first (§9.3).
 * - `Reject`: reply `rejected{reason}` (default "User rejected").
 * - `Fail`: reply `failed{reason}` without paying (default "Payment failed"), as a wallet that cannot pay.
 * - `Ignore`: send nothing, as when the app's user lets the request expire; the service sees its timeout.
 * @category models
 */
export type PaymentDecision = Data.TaggedEnum<{
  Approve: {}
  Reject: { readonly reason?: string | undefined }
  Fail: { readonly reason?: string | undefined }
  Ignore: {}
}>

/**
 * Constructors and matchers of `PaymentDecision`.
 * @category models
 */
export const PaymentDecision = Data.taggedEnum<PaymentDecision>()

/**
 * A decision that sends a reply (`respondPayment` takes these).
 * @category models
 */
export type PaymentAnswer = Exclude<PaymentDecision, { readonly _tag: "Ignore" }>

/**
 * What came of an answer, as the service was told.
 * - `Paid`: `approved` then `success{preimage}`; `payment` is what the wallet reported.
 * - `Failed`: `failed{reason}` (after `approved` when the wallet tried and failed; `cause` is its error).
 * - `Rejected`: `rejected{reason}` alone.
 * @category models
 */
export type PaymentOutcome = Data.TaggedEnum<{
  Paid: { readonly payment: Wallet.Payment }
  Failed: { readonly reason: string; readonly cause: Option.Option<WalletError> }
  Rejected: { readonly reason: string }
}>

/**
 * Constructors and matchers of `PaymentOutcome`.
 * @category models
 */
export const PaymentOutcome = Data.taggedEnum<PaymentOutcome>()

/**
 * Approve.
 * @category constructors
 */
export const approve: PaymentAnswer = PaymentDecision.Approve()

/**
 * Reject, with the Portal app's reason unless one is given.
 * @category constructors
 */
export const reject = (reason?: string): PaymentAnswer => PaymentDecision.Reject({ reason })

/**
 * Fail without paying, with "Payment failed" unless a reason is given.
 * @category constructors
 */
export const fail = (reason?: string): PaymentAnswer => PaymentDecision.Fail({ reason })

/**
 * Send nothing.
 * @category constructors
 */
export const ignore: PaymentDecision = PaymentDecision.Ignore()

/**
 * Decides about one single payment request. A failure is logged and nothing is sent (the service sees its timeout).
 * @category models
 */
export type PaymentPolicy<E = never> = (request: PaymentRequest) => Effect.Effect<PaymentDecision, E>

/**
 * Approves (and pays) every request.
 * @category policies
 */
export const approveAll: PaymentPolicy = () => Effect.succeed(approve)

/**
 * Rejects every request.
 * @category policies
 */
export const rejectAll =
  (reason?: string): PaymentPolicy =>
  () =>
    Effect.succeed(reject(reason))

/**
 * Answers every request `failed{reason}` without paying.
 * @category policies
 */
export const failAll =
  (reason?: string): PaymentPolicy =>
  () =>
    Effect.succeed(fail(reason))

/**
 * Answers nothing.
 * @category policies
 */
export const ignoreAll: PaymentPolicy = () => Effect.succeed(ignore)

/**
 * Approves requests of at most `maxMsat` (the requested amount in msat, fiat converted with the request's rate) and
 * rejects larger ones.
 * @category policies
 */
export const approveUpTo =
  (maxMsat: number, reason = "Amount above the user's limit"): PaymentPolicy =>
  (request) =>
    Effect.succeed(request.amountMsat <= maxMsat ? approve : reject(reason))

/**
 * Whether an invoice of `invoiceMsat` matches a request for `requestedMsat` as the Portal app checks it: within 1 %
 * for invoices ≤ 10 000 000 msat, 0.5 % above (integer arithmetic, relative to the requested amount).
 * @category checks
 */
export const invoiceMatches = (invoiceMsat: number, requestedMsat: number): boolean => {
  const diff = Math.abs(invoiceMsat - requestedMsat)
  return invoiceMsat <= 10_000_000 ? diff * 100 <= requestedMsat : diff * 200 <= requestedMsat
}
