/**
 * Stream events as `GET /events/{stream_id}`, SSE and webhooks carry them (rest-api.md §4.2, §4.3): flat objects
 * `{index, timestamp, type, …fields}` with a `type` discriminator, 8 types. Optional fields are `null`, never absent.
 * These schemas are the wire form itself (no transformation), so stored event JSON is served byte for byte.
 *
 * Additions to the reference (compatible: the official client ignores fields it does not know, and only this
 * daemon's own fixed `recurring-payment-billing` stream carries the `requested` status): `payment_status_update`
 * carries `exchange_rate` and `subscription_id` (both `null` when not applicable), and on the billing stream
 * `stream_id`, the billed period's own stream.
 *
 * @since 0.1.0
 */
import * as Primitives from "@portal/protocol/Primitives"
import * as Schema from "effect/Schema"

/**
 * When the event was stored: RFC 3339 UTC with a `+00:00` offset and 0, 3, 6 or 9 fractional digits; we emit 3.
 * @category fields
 */
export const EventTimestamp = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6}|\.\d{9})?\+00:00$/, {
    message: () => "expected an RFC 3339 UTC timestamp with +00:00"
  })
).annotations({ identifier: "EventTimestamp", examples: ["2026-05-06T16:42:24.123+00:00"] })

/**
 * Unix seconds as a decimal string, as every timestamp inside an event travels.
 * @category fields
 */
export const DecimalSeconds = Schema.String.pipe(Schema.pattern(/^[0-9]+$/)).annotations({
  identifier: "DecimalSeconds",
  examples: ["1700000000"]
})

const base = { index: Schema.Int.pipe(Schema.nonNegative()), timestamp: EventTimestamp }
const nullableString = Schema.NullOr(Schema.String)

/** A wallet presented the handshake URL's token. @category events */
export const KeyHandshakeEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("key_handshake"),
  main_key: Primitives.PublicKeyHex,
  preferred_relays: Schema.Array(Schema.String)
}).annotations({ identifier: "KeyHandshakeEvent" })

/**
 * The exchange rate a fiat-priced payment request carried in `current_exchange_rate` (fiat units per 1 BTC, the
 * lowercase source name, when it was quoted).
 * @category fields
 */
export const EventExchangeRate = Schema.Struct({
  rate: Schema.Number,
  source: Schema.String,
  time: DecimalSeconds
}).annotations({ identifier: "EventExchangeRate", examples: [{ rate: 50000, source: "fixed", time: "1700000000" }] })

/**
 * The status of a single or raw payment: wallet replies (`user_*`) and the daemon's own invoice monitoring.
 * @category events
 */
export const PaymentStatus = Schema.Union(
  Schema.Struct({ status: Schema.Literal("user_approved") }),
  Schema.Struct({ status: Schema.Literal("user_success"), preimage: nullableString }),
  Schema.Struct({ status: Schema.Literal("user_failed"), reason: nullableString }),
  Schema.Struct({ status: Schema.Literal("user_rejected"), reason: nullableString }),
  Schema.Struct({ status: Schema.Literal("paid"), preimage: nullableString }),
  Schema.Struct({ status: Schema.Literal("timeout") }),
  Schema.Struct({ status: Schema.Literal("error"), reason: Schema.String }),
  // only on the fixed `recurring-payment-billing` stream: a subscription period was billed
  Schema.Struct({
    status: Schema.Literal("requested"),
    main_key: Primitives.PublicKeyHex,
    amount: Schema.Int,
    currency: Schema.String
  })
).annotations({ identifier: "PaymentStatus" })
/** @category events */
export type PaymentStatus = typeof PaymentStatus.Type

/**
 * A payment's status. Our daemon always writes `exchange_rate` (the rate the request carried; `null` for Millisats)
 * and `subscription_id` (the subscription a billed period belongs to, else `null`); they are optional here so that
 * events stored by older versions still decode. `stream_id` is set only on the fixed `recurring-payment-billing`
 * stream: the billed period's `single_payment` stream.
 * @category events
 */
export const PaymentStatusUpdateEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("payment_status_update"),
  status: PaymentStatus,
  exchange_rate: Schema.optional(
    Schema.NullOr(EventExchangeRate).annotations({
      description: "The rate the request carried in `current_exchange_rate`; null for Millisats."
    })
  ),
  subscription_id: Schema.optional(
    nullableString.annotations({ description: "The subscription a billed period belongs to; else null." })
  ),
  stream_id: Schema.optional(
    Schema.String.annotations({
      description: "Only on the `recurring-payment-billing` stream: the billed period's `single_payment` stream."
    })
  )
}).annotations({ identifier: "PaymentStatusUpdateEvent" })

/** A user cancelled a subscription (the fixed `recurring-payment-close` stream). @category events */
export const ClosedRecurringPaymentEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("closed_recurring_payment"),
  reason: nullableString,
  subscription_id: Schema.String,
  recipient: Primitives.PublicKeyHex,
  main_key: Primitives.PublicKeyHex
}).annotations({ identifier: "ClosedRecurringPaymentEvent" })

/** @category events */
export const AuthStatus = Schema.Union(
  Schema.Struct({
    status: Schema.Literal("approved"),
    granted_permissions: Schema.Array(Schema.String),
    session_token: Schema.String
  }),
  Schema.Struct({ status: Schema.Literal("declined"), reason: nullableString })
).annotations({ identifier: "AuthStatus" })

/** The user's answer to an auth challenge. @category events */
export const AuthenticateKeyEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("authenticate_key"),
  user_key: Primitives.PublicKeyHex,
  recipient: Primitives.PublicKeyHex,
  challenge: Schema.String,
  status: AuthStatus
}).annotations({ identifier: "AuthenticateKeyEvent" })

/** @category events */
export const RecurringStatus = Schema.Union(
  Schema.Struct({
    status: Schema.Literal("confirmed"),
    subscription_id: Schema.String,
    authorized_amount: Schema.Int,
    authorized_currency: Schema.String,
    authorized_recurrence: Schema.Struct({
      until: Schema.NullOr(DecimalSeconds),
      calendar: Schema.String,
      max_payments: Schema.NullOr(Schema.Int),
      first_payment_due: DecimalSeconds
    })
  }),
  Schema.Struct({ status: Schema.Literal("rejected"), reason: nullableString })
).annotations({ identifier: "RecurringStatus" })

/** The user's answer to a recurring payment request. @category events */
export const RecurringPaymentResponseEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("recurring_payment_response"),
  status: Schema.Struct({ request_id: Schema.String, status: RecurringStatus })
}).annotations({ identifier: "RecurringPaymentResponseEvent" })

/** The invoice the recipient issued (`payment_hash` is `""` when they gave none). @category events */
export const InvoiceResponseEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("invoice_response"),
  invoice: Schema.String,
  payment_hash: Schema.String
}).annotations({ identifier: "InvoiceResponseEvent" })

/** @category events */
export const CashuStatus = Schema.Union(
  Schema.Struct({ status: Schema.Literal("success"), token: Schema.String }),
  Schema.Struct({ status: Schema.Literal("insufficient_funds") }),
  Schema.Struct({ status: Schema.Literal("rejected"), reason: nullableString })
).annotations({ identifier: "CashuStatus" })

/** The recipient's answer to a Cashu request. @category events */
export const CashuResponseEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("cashu_response"),
  status: CashuStatus
}).annotations({ identifier: "CashuResponseEvent" })

/** The operation failed or ended (`timeout`, `closed`, `interrupted by restart: …`). @category events */
export const ErrorEvent = Schema.Struct({
  ...base,
  type: Schema.Literal("error"),
  reason: Schema.String
}).annotations({ identifier: "ErrorEvent" })

/**
 * Any stream event, discriminated by `type`.
 * @category events
 */
export const StreamEvent = Schema.Union(
  KeyHandshakeEvent,
  PaymentStatusUpdateEvent,
  ClosedRecurringPaymentEvent,
  AuthenticateKeyEvent,
  RecurringPaymentResponseEvent,
  InvoiceResponseEvent,
  CashuResponseEvent,
  ErrorEvent
).annotations({ identifier: "StreamEvent" })
/** @category events */
export type StreamEvent = typeof StreamEvent.Type

/**
 * The 8 event types.
 * @category events
 */
export const eventTypes: ReadonlyArray<StreamEvent["type"]> = [
  "key_handshake",
  "payment_status_update",
  "closed_recurring_payment",
  "authenticate_key",
  "recurring_payment_response",
  "invoice_response",
  "cashu_response",
  "error"
]
