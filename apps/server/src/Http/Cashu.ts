/**
 * The `cashu` group (issue 9): request, send-direct, mint and burn. Still 501 until its service lands.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import { notImplemented } from "./NotImplemented.js"

/** @category layers */
export const CashuHandlers = HttpApiBuilder.group(PortalApi, "cashu", (handlers) =>
  handlers
    .handle("request", notImplemented("cashu", "request"))
    .handle("sendDirect", notImplemented("cashu", "sendDirect"))
    .handle("mint", notImplemented("cashu", "mint"))
    .handle("burn", notImplemented("cashu", "burn"))
)
