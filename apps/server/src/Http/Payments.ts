/**
 * Handlers of the `payments` group (rest-api.md §3): `POST /payments/single`, `/payments/raw`, `/payments/recurring`
 * (each stores its stream before answering 201) and `POST /payments/recurring/close`.
 *
 * Errors (differences.md §b, §i): no wallet → 400 naming `wallet.ln_backend`; a currency the rate source does not
 * price, a deadline in the past → 400 naming the field; the rate source, the wallet or the relays failing → 502.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Payments from "../Payments.js"
import * as Recurring from "../Recurring.js"

const started = (streamId: string) => ({ success: true as const, data: { stream_id: streamId } })

const badRequest = (e: { readonly message: string }) => Effect.fail(new ApiError.BadRequest({ error: e.message }))
const badGateway = (e: { readonly message: string }) => Effect.fail(new ApiError.BadGateway({ error: e.message }))

/**
 * The wire error of a payment start failure.
 * @category errors
 */
export const mapStartErrors = {
  WalletNotConfigured: badRequest,
  RateUnsupported: badRequest,
  InvalidPaymentInput: badRequest,
  RateUnavailable: badGateway,
  InvoiceFailed: badGateway,
  StoreFailure: (e: unknown) => Effect.die(e)
} as const

/** @category layers */
export const PaymentsHandlers = HttpApiBuilder.group(PortalApi, "payments", (handlers) =>
  Effect.gen(function* () {
    const payments = yield* Payments.Payments
    const recurring = yield* Recurring.Recurring
    return handlers
      .handle("single", ({ payload }) =>
        payments
          .single({
            mainKey: payload.main_key,
            subkeys: payload.subkeys,
            description: payload.payment_request.description,
            amount: payload.payment_request.amount,
            currency: payload.payment_request.currency,
            authToken: payload.payment_request.auth_token,
            subscriptionId: payload.payment_request.subscription_id,
            requestId: payload.payment_request.request_id
          })
          .pipe(Effect.map(started), Effect.catchTags(mapStartErrors))
      )
      .handle("raw", ({ payload }) => {
        const request = payload.payment_request
        return payments
          .raw({
            mainKey: payload.main_key,
            subkeys: payload.subkeys,
            amount: request.amount,
            currency: request.currency,
            invoice: request.invoice,
            expiresAt: request.expires_at,
            requestId: request.request_id,
            currentExchangeRate: request.current_exchange_rate,
            authToken: request.auth_token,
            subscriptionId: request.subscription_id,
            description: request.description
          })
          .pipe(
            Effect.map(started),
            Effect.catchTags({ InvalidPaymentInput: badRequest, StoreFailure: (e) => Effect.die(e) })
          )
      })
      .handle("recurring", ({ payload }) => {
        const request = payload.payment_request
        return recurring
          .request({
            mainKey: payload.main_key,
            subkeys: payload.subkeys,
            description: request.description,
            amount: request.amount,
            currency: request.currency,
            authToken: request.auth_token,
            calendar: request.recurrence.calendar,
            firstPaymentDue: request.recurrence.first_payment_due,
            until: request.recurrence.until,
            maxPayments: request.recurrence.max_payments,
            expiresAt: request.expires_at
          })
          .pipe(
            Effect.map(started),
            Effect.catchTags({
              RateUnsupported: badRequest,
              InvalidPaymentInput: badRequest,
              RateUnavailable: badGateway,
              StoreFailure: (e) => Effect.die(e)
            })
          )
      })
      .handle("closeRecurring", ({ payload }) =>
        recurring
          .close({ mainKey: payload.main_key, subkeys: payload.subkeys, subscriptionId: payload.subscription_id })
          .pipe(
            Effect.as({ success: true as const, data: { message: "Recurring payment closed" } }),
            Effect.catchTags({ CloseFailed: badGateway, StoreFailure: (e) => Effect.die(e) })
          )
      )
  })
)
