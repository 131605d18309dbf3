/**
 * Handler of the `wallet` group (rest-api.md §3 `GET /wallet/info`): `{wallet_type, balance_msat}` from the
 * configured backend; 400 naming `wallet.ln_backend` when there is none, 502 when the wallet does not answer.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Wallet from "@portal/wallet/Wallet"
import * as Effect from "effect/Effect"
import * as Payments from "../Payments.js"

/** @category layers */
export const WalletHandlers = HttpApiBuilder.group(PortalApi, "wallet", (handlers) =>
  Effect.gen(function* () {
    const wallet = yield* Wallet.Wallet
    const payments = yield* Payments.Payments
    return handlers.handle("info", () =>
      Effect.gen(function* () {
        if (!payments.walletConfigured) {
          return yield* new ApiError.BadRequest({
            error: "No wallet configured: set wallet.ln_backend (PORTAL__WALLET__LN_BACKEND) to nwc"
          })
        }
        const balance = yield* wallet.balance.pipe(
          Effect.mapError((e) => new ApiError.BadGateway({ error: `Failed to get balance: ${e.message}` }))
        )
        return { success: true as const, data: { wallet_type: "nwc" as const, balance_msat: balance } }
      })
    )
  })
)
