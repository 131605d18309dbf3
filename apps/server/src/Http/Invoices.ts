/**
 * The `invoices` group (issue 8): requesting an invoice from a user and paying one. Still 501 until its service lands.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import { notImplemented } from "./NotImplemented.js"

/** @category layers */
export const InvoicesHandlers = HttpApiBuilder.group(PortalApi, "invoices", (handlers) =>
  handlers.handle("request", notImplemented("invoices", "request")).handle("pay", notImplemented("invoices", "pay"))
)
