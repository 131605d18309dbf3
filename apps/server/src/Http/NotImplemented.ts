/**
 * Routes declared in the contract whose services are not built yet (issue 6 and later issues): each answers
 * 501 `{"success":false,"error":"<METHOD> <path> is not implemented yet"}` after its input has been validated, so
 * clients already get the real 400s. Each group moves to its own `Http/<Group>.ts` when its service exists.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { NotImplemented } from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * A handler that fails with 501 naming the endpoint's method and path template (`GET /profile/{main_key}`).
 * @category handlers
 */
export const notImplemented = (group: string, endpoint: string) => {
  const declared = PortalApi.groups[group]?.endpoints[endpoint]
  const route =
    declared === undefined ? `${group}.${endpoint}` : `${declared.method} ${declared.path.replace(/:(\w+)/g, "{$1}")}`
  const error = new NotImplemented({ error: `${route} is not implemented yet` })
  return (): Effect.Effect<never, NotImplemented> => Effect.fail(error)
}

/** @category layers */
export const PaymentsHandlers = HttpApiBuilder.group(PortalApi, "payments", (handlers) =>
  handlers
    .handle("single", notImplemented("payments", "single"))
    .handle("raw", notImplemented("payments", "raw"))
    .handle("recurring", notImplemented("payments", "recurring"))
    .handle("closeRecurring", notImplemented("payments", "closeRecurring"))
)

/** @category layers */
export const InvoicesHandlers = HttpApiBuilder.group(PortalApi, "invoices", (handlers) =>
  handlers.handle("request", notImplemented("invoices", "request")).handle("pay", notImplemented("invoices", "pay"))
)

/** @category layers */
export const CashuHandlers = HttpApiBuilder.group(PortalApi, "cashu", (handlers) =>
  handlers
    .handle("request", notImplemented("cashu", "request"))
    .handle("sendDirect", notImplemented("cashu", "sendDirect"))
    .handle("mint", notImplemented("cashu", "mint"))
    .handle("burn", notImplemented("cashu", "burn"))
)

/** @category layers */
export const WalletHandlers = HttpApiBuilder.group(PortalApi, "wallet", (handlers) =>
  handlers.handle("info", notImplemented("wallet", "info"))
)

/**
 * Every group that is still a stub.
 * @category layers
 */
export const NotImplementedHandlers = Layer.mergeAll(PaymentsHandlers, InvoicesHandlers, CashuHandlers, WalletHandlers)
