/**
 * The `payments` group: single, raw and recurring payment requests to a user (each starts a stream, 201) and
 * closing a subscription. Bearer auth. Amounts are > 0 (differences.md §p), currencies per §b, timestamps per §a.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { startsStream } from "./KeysApi.js"
import { Authorization, JsonBody } from "./Middleware.js"

/** @category models */
export const SinglePaymentRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys,
  payment_request: Schema.Struct({
    description: Schema.String,
    amount: Inputs.PositiveAmount,
    currency: Inputs.CurrencyInput,
    auth_token: Inputs.optional(Schema.String),
    subscription_id: Inputs.optional(Schema.String),
    request_id: Inputs.optional(Schema.String)
  })
}).annotations({ identifier: "SinglePaymentRequest" })

/** @category models */
export const ExchangeRateInput = Schema.Struct({
  rate: Schema.Number.pipe(Schema.finite(), Schema.positive()),
  source: Schema.String,
  time: Inputs.Timestamp
}).annotations({ identifier: "ExchangeRateInput" })

/**
 * `request_id` defaults to a UUID v4 and `expires_at` to now + 300 s (differences.md §p); `invoice` is required.
 * @category models
 */
export const RawPaymentRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys,
  payment_request: Schema.Struct({
    amount: Inputs.PositiveAmount,
    currency: Inputs.CurrencyInput,
    invoice: Schema.String,
    expires_at: Inputs.optional(Inputs.Timestamp),
    request_id: Inputs.optional(Schema.String),
    current_exchange_rate: Inputs.optional(ExchangeRateInput),
    auth_token: Inputs.optional(Schema.String),
    subscription_id: Inputs.optional(Schema.String),
    description: Inputs.optional(Schema.String)
  })
}).annotations({ identifier: "RawPaymentRequest" })

/** @category models */
export const RecurrenceInput = Schema.Struct({
  calendar: Inputs.CalendarInput,
  first_payment_due: Inputs.Timestamp,
  until: Inputs.optional(Inputs.Timestamp),
  max_payments: Inputs.optional(Inputs.Uint32)
}).annotations({ identifier: "RecurrenceInput" })

/**
 * A client-sent `current_exchange_rate` is ignored: the server computes the rate.
 * @category models
 */
export const RecurringPaymentRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys,
  payment_request: Schema.Struct({
    description: Inputs.optional(Schema.String),
    amount: Inputs.PositiveAmount,
    currency: Inputs.CurrencyInput,
    auth_token: Inputs.optional(Schema.String),
    recurrence: RecurrenceInput,
    expires_at: Inputs.Timestamp
  })
}).annotations({ identifier: "RecurringPaymentRequest" })

/** @category models */
export const CloseRecurringPaymentRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys,
  subscription_id: Schema.String
}).annotations({ identifier: "CloseRecurringPaymentRequest" })

/** @category models */
export const Message = Schema.Struct({ message: Schema.String }).annotations({ identifier: "Message" })

/** @category groups */
export class PaymentsApi extends HttpApiGroup.make("payments")
  .add(
    startsStream(
      "single",
      "/payments/single",
      SinglePaymentRequest,
      "Creates an invoice with the daemon's wallet and asks the user to pay it; `payment_status_update` events follow."
    )
  )
  .add(
    startsStream(
      "raw",
      "/payments/raw",
      RawPaymentRequest,
      "Sends a payment request for a caller-made invoice; only user-side statuses follow."
    )
  )
  .add(
    startsStream(
      "recurring",
      "/payments/recurring",
      RecurringPaymentRequest,
      "Asks the user to authorise a subscription; one `recurring_payment_response` or `error`."
    )
  )
  .add(
    HttpApiEndpoint.post("closeRecurring", "/payments/recurring/close")
      .setPayload(CloseRecurringPaymentRequest)
      .addSuccess(Envelope.Success(Message))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Tells the user a subscription is closed by the service.")
  ) {}
