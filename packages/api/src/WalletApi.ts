/**
 * The `wallet` group: the daemon's Lightning wallet. Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import { Authorization } from "./Middleware.js"

/** @category models */
export const WalletInfo = Schema.Struct({
  wallet_type: Schema.Literal("nwc", "breez"),
  balance_msat: Schema.Int.pipe(Schema.nonNegative())
}).annotations({ identifier: "WalletInfo" })

/** @category groups */
export class WalletApi extends HttpApiGroup.make("wallet").add(
  HttpApiEndpoint.get("info", "/wallet/info")
    .addSuccess(Envelope.Success(WalletInfo))
    .addError(ApiError.BadGatewayResponse)
    .middleware(Authorization)
    .annotate(OpenApi.Description, "The wallet backend and its balance; 400 when no wallet is configured.")
) {}
