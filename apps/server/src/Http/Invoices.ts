/**
 * Handlers of the `invoices` group (rest-api.md §3): `POST /invoices/request` (a 28008 and its `invoice_request`
 * stream, stored before the 201) and `POST /invoices/pay` (the daemon's wallet pays; `{preimage, fees_paid_msat}`).
 *
 * Errors: no wallet → 400 naming `wallet.ln_backend`; a malformed invoice, a currency the rate source does not price,
 * a deadline in the past → 400; the wallet failing to pay, the rate source failing → 502.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Invoices from "../Invoices.js"

const badRequest = (e: { readonly message: string }) => Effect.fail(new ApiError.BadRequest({ error: e.message }))
const badGateway = (e: { readonly message: string }) =>
  Effect.fail(new ApiError.BadGateway({ error: `Failed to pay invoice: ${e.message}` }))

/** @category layers */
export const InvoicesHandlers = HttpApiBuilder.group(PortalApi, "invoices", (handlers) =>
  Effect.gen(function* () {
    const invoices = yield* Invoices.Invoices
    return handlers
      .handle("request", ({ payload }) =>
        invoices
          .request({
            recipient: payload.recipient_key,
            subkeys: payload.subkeys,
            amount: payload.content.amount,
            currency: payload.content.currency,
            expiresAt: payload.content.expires_at,
            description: payload.content.description,
            refundInvoice: payload.content.refund_invoice,
            requestId: payload.content.request_id
          })
          .pipe(
            Effect.map((streamId) => ({ success: true as const, data: { stream_id: streamId } })),
            Effect.catchTags({
              RateUnsupported: badRequest,
              InvalidPaymentInput: badRequest,
              RateUnavailable: (e) => Effect.fail(new ApiError.BadGateway({ error: e.message })),
              StoreFailure: (e) => Effect.die(e)
            })
          )
      )
      .handle("pay", ({ payload }) =>
        invoices.pay(payload.invoice).pipe(
          Effect.map((payment) => ({
            success: true as const,
            data: { preimage: payment.preimage, fees_paid_msat: payment.feesPaidMsat }
          })),
          Effect.catchTags({
            WalletNotConfigured: badRequest,
            InvalidBolt11: (e) => Effect.fail(new ApiError.BadRequest({ error: `invoice: ${e.detail}` })),
            WalletInsufficientBalance: badGateway,
            WalletPaymentFailed: (e) =>
              e.reason === "InvalidInvoice"
                ? Effect.fail(new ApiError.BadRequest({ error: `invoice: ${e.detail}` }))
                : badGateway(e),
            WalletNotSupported: badGateway,
            WalletUnreachable: badGateway,
            WalletTimeout: badGateway,
            WalletInvoiceNotFound: badGateway
          })
        )
      )
  })
)
