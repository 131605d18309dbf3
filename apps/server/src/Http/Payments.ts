/**
 * The `payments` group (issue 8): single, raw and recurring payment requests and closing a subscription. Still 501 until its service lands.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import { notImplemented } from "./NotImplemented.js"

/** @category layers */
export const PaymentsHandlers = HttpApiBuilder.group(PortalApi, "payments", (handlers) =>
  handlers
    .handle("single", notImplemented("payments", "single"))
    .handle("raw", notImplemented("payments", "raw"))
    .handle("recurring", notImplemented("payments", "recurring"))
    .handle("closeRecurring", notImplemented("payments", "closeRecurring"))
)
