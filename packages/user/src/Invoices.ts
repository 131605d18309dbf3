/**
 * Invoice requests from the user's side (protocol.md §5.8, §5.9, §10): the 28008 requests a service sends ("send me
 * an invoice for this amount"), the decisions a policy takes about them, and ready-made policies.
 *
 * A request reaches a policy only after these checks: addressed to us, decrypted and decoded, not expired, an amount
 * above 0, and, for fiat, a `current_exchange_rate` to compute the msat amount with (the issuer has no other rate).
 * The requester is the signing key (invoice requests carry no subkey proof), which is also the `main_key` echoed in
 * the response.
 *
 * Issuing makes an invoice for that msat amount with the user's own `Wallet` and replies 28009 with the request
 * echoed (`inner`, `main_key`, `recipient`), the BOLT11 and its payment hash, to the requester with the p-tag set
 * {recipient, requester main key}. There is no refusal on the wire: a request that is not answered times out.
 *
 * Not done as the app does: the Portal app never answers 28008 (§10); this user side does when given a policy. The
 * reference issuer does not check `expires_at`; we do not answer an expired request.
 *
 * @since 0.1.0
 */
import type * as Event from "@portal/nostr/Event"
import type * as Currency from "@portal/protocol/Currency"
import type * as Messages from "@portal/protocol/Messages"
import type { Amount, Msat, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"

/**
 * An invoice request (kind 28008) that passed every check (see the module comment).
 * @category models
 */
export interface InvoiceRequest {
  /** The 28008 event's id: the identity of the request (one answer per id). */
  readonly eventId: string
  /** The requester: the key that signed the request (its main key as far as we can tell). */
  readonly requester: PublicKeyHex
  readonly requestId: string
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly exchangeRate: Option.Option<Currency.ExchangeRate>
  /** The amount to invoice, msat (fiat converted with `exchangeRate`). */
  readonly amountMsat: Msat
  readonly expiresAt: UnixSeconds
  readonly description: Option.Option<string>
  readonly refundInvoice: Option.Option<string>
  readonly content: Messages.InvoiceRequestContent
  readonly event: Event.NostrEvent
}

/**
 * What to do with an invoice request.
 * - `Issue`: make an invoice for the request's msat amount with the user's wallet and reply 28009. The invoice's
 *   description defaults to the request's (or ""), its expiry to the wallet's default.
 * - `Ignore`: send nothing (there is no refusal on the wire).
 * @category models
 */
export type InvoiceDecision = Data.TaggedEnum<{
  Issue: { readonly description?: string | undefined; readonly expirySecs?: number | undefined }
  Ignore: {}
}>

/**
 * Constructors and matchers of `InvoiceDecision`.
 * @category models
 */
export const InvoiceDecision = Data.taggedEnum<InvoiceDecision>()

/**
 * A decision that sends a reply (`respondInvoice` takes these).
 * @category models
 */
export type InvoiceAnswer = Exclude<InvoiceDecision, { readonly _tag: "Ignore" }>

/**
 * Issue an invoice.
 * @category constructors
 */
export const issue = (options: { readonly description?: string; readonly expirySecs?: number } = {}): InvoiceAnswer =>
  InvoiceDecision.Issue(options)

/**
 * Send nothing.
 * @category constructors
 */
export const ignore: InvoiceDecision = InvoiceDecision.Ignore()

/**
 * Decides about one invoice request. A failure is logged and nothing is sent.
 * @category models
 */
export type InvoicePolicy<E = never> = (request: InvoiceRequest) => Effect.Effect<InvoiceDecision, E>

/**
 * Issues an invoice for every request.
 * @category policies
 */
export const issueAll: InvoicePolicy = () => Effect.succeed(issue())

/**
 * Answers nothing.
 * @category policies
 */
export const ignoreAll: InvoicePolicy = () => Effect.succeed(ignore)
