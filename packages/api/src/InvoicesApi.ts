/**
 * The `invoices` group: ask a user for an invoice (a stream, 201) and pay an invoice with the daemon's wallet.
 * Bearer auth.
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
export const InvoiceRequest = Schema.Struct({
  recipient_key: Inputs.RecipientKey,
  subkeys: Inputs.Subkeys,
  content: Schema.Struct({
    amount: Inputs.PositiveAmount,
    currency: Inputs.CurrencyInput,
    expires_at: Inputs.Timestamp,
    description: Inputs.optional(Schema.String),
    refund_invoice: Inputs.optional(Schema.String),
    request_id: Inputs.optional(Schema.String)
  })
}).annotations({ identifier: "InvoiceRequest" })

/** @category models */
export const PayInvoiceRequest = Schema.Struct({ invoice: Schema.String }).annotations({
  identifier: "PayInvoiceRequest"
})

/** @category models */
export const PayInvoiceResult = Schema.Struct({
  preimage: Schema.String,
  fees_paid_msat: Schema.Int.pipe(Schema.nonNegative())
}).annotations({ identifier: "PayInvoiceResult" })

/** @category groups */
export class InvoicesApi extends HttpApiGroup.make("invoices")
  .add(
    startsStream(
      "request",
      "/invoices/request",
      InvoiceRequest,
      "Asks a user for an invoice; one `invoice_response` or `error` follows."
    )
  )
  .add(
    HttpApiEndpoint.post("pay", "/invoices/pay")
      .setPayload(PayInvoiceRequest)
      .addSuccess(Envelope.Success(PayInvoiceResult))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Pays a BOLT11 invoice with the daemon's Lightning wallet.")
  ) {}
