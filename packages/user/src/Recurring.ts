/**
 * Recurring payments from the user's side (protocol.md §5.4, §5.6, §5.7, §9, §20.3): the 28005 subscription
 * requests a service sends, the decisions a policy takes about them, the subscriptions the user authorised, the
 * 28007 close notices, and the checks a billed period must pass before the user's wallet pays it.
 *
 * A subscription request reaches a policy only after the checks the Portal app makes: addressed to us, decrypted and
 * decoded (`payment_type:"Recurring"`, a calendar that parses), not expired, an amount above 0. The service is the
 * signing key. Authorising answers `confirmed` with a fresh UUID v4 as `subscription_id` and echoes the request's
 * amount, currency and recurrence (the app never counter-offers); the user side keeps the authorisation.
 *
 * The service initiates every period with a single payment request carrying the `subscription_id` (§9.3). It is paid
 * without asking anyone when `checkCharge` passes, in the app's order: a known subscription, the authorised amount and
 * currency exactly, due (`first_payment_due` for the first charge, then the calendar's next occurrence after the last
 * successful charge), a wallet whose balance exceeds the invoice. Refusals are `rejected{reason}` with the app's
 * texts. A successful charge is dated when it was accepted, before the wallet pays. The app dates it at completion;
 * ours is never later, so a service that counts the next period from its own settlement time is never early for us.
 *
 * Stricter than the app, on purpose (the app leaves these to the service, §9.3, §20.5): the charge must come from the
 * key that the subscription was authorised to; a subscription closed by either side, one that reached
 * `max_payments`, or one past `until` is never charged again; the next due date is the first occurrence strictly
 * after the last charge (the app's inclusive walk would accept a second charge at the same second); and billed
 * periods are charged one at a time, so two concurrent charges cannot both pass the due check.
 *
 * Subscriptions live in memory, for the life of the `User` service.
 *
 * @since 0.1.0
 */
import type * as Event from "@portal/nostr/Event"
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import type * as Messages from "@portal/protocol/Messages"
import type { Amount, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Payments from "./Payments.js"

/**
 * What the Portal app answers when the user declines a subscription.
 * @category constants
 */
export const DEFAULT_REJECT_REASON = "User rejected"

/**
 * A subscription request (kind 28005) that passed every check (see the module comment).
 * @category models
 */
export interface RecurringRequest {
  /** The 28005 event's id: the identity of the request (one answer per id). */
  readonly eventId: string
  /** The service: the key that signed the request. Replies, closes and billed periods are tied to it. */
  readonly serviceKey: PublicKeyHex
  readonly requestId: string
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly exchangeRate: Option.Option<Currency.ExchangeRate>
  readonly recurrence: Messages.RecurrenceInfo
  /** `recurrence.calendar`, parsed (always UTC: no timezone travels on the wire). */
  readonly calendar: Calendar.Calendar
  /** Deadline of the answer. */
  readonly expiresAt: UnixSeconds
  readonly description: Option.Option<string>
  readonly authToken: Option.Option<string>
  readonly content: Messages.RecurringPaymentRequest
  readonly event: Event.NostrEvent
}

/**
 * What to do with a subscription request.
 * - `Authorize`: reply `confirmed` with a new subscription id, echoing the request; the subscription is kept and its
 *   billed periods are paid automatically within the authorisation.
 * - `Reject`: reply `rejected{reason}` (default "User rejected").
 * - `Ignore`: send nothing.
 * @category models
 */
export type RecurringDecision = Data.TaggedEnum<{
  Authorize: {}
  Reject: { readonly reason?: string | undefined }
  Ignore: {}
}>

/**
 * Constructors and matchers of `RecurringDecision`.
 * @category models
 */
export const RecurringDecision = Data.taggedEnum<RecurringDecision>()

/**
 * A decision that sends a reply (`respondRecurring` takes these).
 * @category models
 */
export type RecurringAnswer = Exclude<RecurringDecision, { readonly _tag: "Ignore" }>

/**
 * Authorise.
 * @category constructors
 */
export const authorize: RecurringAnswer = RecurringDecision.Authorize()

/**
 * Reject, with the Portal app's reason unless one is given.
 * @category constructors
 */
export const reject = (reason?: string): RecurringAnswer => RecurringDecision.Reject({ reason })

/**
 * Send nothing.
 * @category constructors
 */
export const ignore: RecurringDecision = RecurringDecision.Ignore()

/**
 * Decides about one subscription request. A failure is logged and nothing is sent.
 * @category models
 */
export type RecurringPolicy<E = never> = (request: RecurringRequest) => Effect.Effect<RecurringDecision, E>

/**
 * Authorises every subscription.
 * @category policies
 */
export const authorizeAll: RecurringPolicy = () => Effect.succeed(authorize)

/**
 * Rejects every subscription.
 * @category policies
 */
export const rejectAll =
  (reason?: string): RecurringPolicy =>
  () =>
    Effect.succeed(reject(reason))

/**
 * Answers nothing.
 * @category policies
 */
export const ignoreAll: RecurringPolicy = () => Effect.succeed(ignore)

/**
 * A subscription the user authorised, as the user side keeps it.
 * @category models
 */
export interface Subscription {
  /** Minted by the user side (UUID v4) and sent in `confirmed`. */
  readonly subscriptionId: string
  /** The `request_id` of the 28005. */
  readonly requestId: string
  /** The key that signed the 28005: the only key whose charges are paid, and where a user close goes. */
  readonly serviceKey: PublicKeyHex
  /** The authorised amount (msat or fiat cents) and currency: a charge must match them exactly. */
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly recurrence: Messages.RecurrenceInfo
  readonly calendar: Calendar.Calendar
  readonly description: Option.Option<string>
  /** When it was authorised (Unix seconds). */
  readonly authorizedAt: number
  /** `Closed` once either side closed it; it is never charged again. */
  readonly status: SubscriptionStatus
  /** Successful charges so far. */
  readonly paymentsMade: number
  /** When the last successful charge was accepted (its checks passed; Unix seconds). */
  readonly lastPaymentAt: Option.Option<number>
}

/**
 * `Active`, or `Closed` by the service (an incoming 28007) or by the user (`closeSubscription`).
 * @category models
 */
export type SubscriptionStatus = Data.TaggedEnum<{
  Active: {}
  Closed: { readonly by: "service" | "user"; readonly at: number; readonly reason: Option.Option<string> }
}>

/**
 * Constructors and matchers of `SubscriptionStatus`.
 * @category models
 */
export const SubscriptionStatus = Data.taggedEnum<SubscriptionStatus>()

/**
 * A close notice (kind 28007) addressed to us.
 * @category models
 */
export interface CloseNotice {
  readonly subscriptionId: string
  readonly reason: Option.Option<string>
  /** What the sender claims; `true` from a service. */
  readonly byService: boolean
  /** The key that signed the notice. */
  readonly sender: PublicKeyHex
  /**
   * True when it is about one of our subscriptions and was sent by that subscription's service key: the subscription
   * is closed (by this notice, or already before). Notices from other keys change nothing.
   */
  readonly closed: boolean
  readonly event: Event.NostrEvent
}

/**
 * The subscription the user keeps for an authorised request.
 * @category constructors
 */
export const fromRequest = (request: RecurringRequest, subscriptionId: string, now: number): Subscription => ({
  subscriptionId,
  requestId: request.requestId,
  serviceKey: request.serviceKey,
  amount: request.amount,
  currency: request.currency,
  recurrence: request.recurrence,
  calendar: request.calendar,
  description: request.description,
  authorizedAt: now,
  status: SubscriptionStatus.Active(),
  paymentsMade: 0,
  lastPaymentAt: Option.none()
})

/**
 * When the next charge of a subscription is due: `first_payment_due` before the first charge, then the calendar's
 * first occurrence strictly after the last charge (None when the calendar has no further occurrence).
 * @category checks
 */
export const nextDue = (subscription: Subscription): Option.Option<number> =>
  Option.match(subscription.lastPaymentAt, {
    onNone: () => Option.some<number>(subscription.recurrence.firstPaymentDue),
    onSome: (last) => Calendar.nextOccurrence(subscription.calendar, last + 1)
  })

const sameCurrency = (a: Currency.Currency, b: Currency.Currency) =>
  Currency.isMillisats(a) ? Currency.isMillisats(b) : !Currency.isMillisats(b) && a.code === b.code

const describeAmount = (amount: number, currency: Currency.Currency) =>
  Currency.isMillisats(currency) ? `${amount} msat` : `${amount} ${currency.code} cents`

/**
 * The checks a billed period (a single payment request with a `subscription_id`) must pass before the wallet is
 * asked, in the app's order plus ours (see the module comment). `Left` holds the `rejected` reason. The wallet's
 * balance is checked afterwards, by the caller.
 * @category checks
 */
export const checkCharge = (
  subscription: Option.Option<Subscription>,
  request: Pick<Payments.PaymentRequest, "serviceKey" | "amount" | "currency" | "subscriptionId">,
  now: number
): Either.Either<Subscription, string> => {
  const id = Option.getOrElse(request.subscriptionId, () => "")
  if (Option.isNone(subscription) || subscription.value.serviceKey !== request.serviceKey) {
    return Either.left(`Subscription with ID ${id} not found in database`)
  }
  const sub = subscription.value
  if (sub.status._tag === "Closed") {
    return Either.left(`Subscription with ID ${id} was closed by the ${sub.status.by}`)
  }
  if (request.amount !== sub.amount || !sameCurrency(request.currency, sub.currency)) {
    return Either.left(
      `Payment amount does not match subscription amount. Requested ${describeAmount(request.amount, request.currency)}, authorized ${describeAmount(sub.amount, sub.currency)}`
    )
  }
  const max = Option.getOrUndefined(sub.recurrence.maxPayments)
  if (max !== undefined && sub.paymentsMade >= max) {
    return Either.left(`Subscription with ID ${id} reached its max_payments (${max})`)
  }
  const until = Option.getOrUndefined(sub.recurrence.until)
  if (until !== undefined && now > until) {
    return Either.left(`Subscription with ID ${id} ended at ${until}`)
  }
  const due = nextDue(sub)
  if (Option.isNone(due) || due.value > now) {
    return Either.left("Payment is not due yet. Please wait till the next payment is scheduled.")
  }
  if (until !== undefined && due.value > until) {
    return Either.left(`Subscription with ID ${id} ended at ${until}`)
  }
  return Either.right(sub)
}

/**
 * The reason of a billed period refused for lack of balance (the app's text).
 * @category constants
 */
export const INSUFFICIENT_BALANCE_REASON = "Recurrent payment failed: insufficient wallet balance."

/**
 * The reason of a billed period refused because the user has no wallet (the app's text).
 * @category constants
 */
export const NO_WALLET_REASON = "Recurrent payment failed: no wallet provided."
