/**
 * The `wallet` group (issue 8): the daemon wallet's info. Still 501 until its service lands.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import { notImplemented } from "./NotImplemented.js"

/** @category layers */
export const WalletHandlers = HttpApiBuilder.group(PortalApi, "wallet", (handlers) =>
  handlers.handle("info", notImplemented("wallet", "info"))
)
