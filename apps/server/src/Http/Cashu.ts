/**
 * Handlers of the `cashu` group (rest-api.md §3): `POST /cashu/request` (a 29500 and its `cashu_request` stream,
 * stored before the 201), `/cashu/send-direct` (a 29502), `/cashu/mint` (`{token}`) and `/cashu/burn` (`{amount}`
 * in the token's unit).
 *
 * Errors (differences.md §i): a bad `mint_url`, `unit` or token, a unit the mint does not have, a token already
 * spent, a static auth token the mint refuses, no wallet to pay a mint quote → 400 naming the field; the mint
 * unreachable or refusing, the wallet failing to pay, no relay taking a 29502 → 502 with the reference's prefix. A
 * token never appears in a message.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type { CashuError } from "@portal/cashu/CashuError"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Cashu from "../Cashu.js"

const badRequest = (error: string) => Effect.fail(new ApiError.BadRequest({ error }))
const badGateway = (error: string) => Effect.fail(new ApiError.BadGateway({ error }))

/** The wire error of a Cashu failure during `op` (`mint`, `burn`). */
const mapCashuError =
  (op: string) =>
  (e: CashuError | Cashu.InvalidCashuInput): Effect.Effect<never, ApiError.BadRequest | ApiError.BadGateway> => {
    switch (e._tag) {
      case "InvalidCashuInput":
      case "InvalidMintUrl":
      case "UnknownUnit":
      case "TokenAlreadySpent":
      case "InsufficientEcash":
      case "InvalidToken":
        return badRequest(e.message)
      case "MintRejected":
        return e.code >= 30000 && e.code < 40000
          ? badRequest(`static_auth_token: ${e.message}`)
          : badGateway(`Failed to ${op} cashu: ${e.message}`)
      case "MintQuoteUnpaid":
        return e.reason === "NoWallet"
          ? badRequest(`${e.message}; set wallet.ln_backend or give static_auth_token`)
          : badGateway(`Failed to ${op} cashu: ${e.message}`)
      case "MintUnreachable":
        return badGateway(`Failed to ${op} cashu: ${e.message}`)
      case "ProofStoreFailed":
        return Effect.die(e)
    }
  }

const secret = (value: Option.Option<string>) =>
  Option.map(
    Option.filter(value, (token) => token !== ""),
    Redacted.make
  )

/** @category layers */
export const CashuHandlers = HttpApiBuilder.group(PortalApi, "cashu", (handlers) =>
  Effect.gen(function* () {
    const cashu = yield* Cashu.Cashu
    return handlers
      .handle("request", ({ payload }) =>
        cashu
          .request({
            recipient: payload.recipient_key,
            subkeys: payload.subkeys,
            mintUrl: payload.mint_url,
            unit: payload.unit,
            amount: payload.amount
          })
          .pipe(
            Effect.map((streamId) => ({ success: true as const, data: { stream_id: streamId } })),
            Effect.catchTags({
              InvalidCashuInput: (e) => badRequest(e.message),
              InvalidMintUrl: (e) => badRequest(e.message),
              StoreFailure: (e) => Effect.die(e)
            })
          )
      )
      .handle("sendDirect", ({ payload }) =>
        cashu.sendDirect({ mainKey: payload.main_key, subkeys: payload.subkeys, token: payload.token }).pipe(
          Effect.as({ success: true as const, data: { message: "Cashu direct sent" } }),
          Effect.catchTags({
            InvalidToken: (e) => badRequest(e.message),
            CashuNotDelivered: (e) => badGateway(`Failed to send cashu direct: ${e.message}`),
            SignerError: (e) => badGateway(`Failed to send cashu direct: ${e.message}`),
            EncryptionError: (e) => badGateway(`Failed to send cashu direct: ${e.message}`)
          })
        )
      )
      .handle("mint", ({ payload }) =>
        cashu
          .mint({
            mintUrl: payload.mint_url,
            unit: payload.unit,
            amount: payload.amount,
            staticAuthToken: secret(payload.static_auth_token),
            description: payload.description
          })
          .pipe(
            Effect.map((token) => ({ success: true as const, data: { token } })),
            Effect.catchAll(mapCashuError("mint"))
          )
      )
      .handle("burn", ({ payload }) =>
        cashu
          .burn({
            mintUrl: payload.mint_url,
            unit: payload.unit,
            token: payload.token,
            staticAuthToken: secret(payload.static_auth_token)
          })
          .pipe(
            Effect.map((amount) => ({ success: true as const, data: { amount } })),
            Effect.catchAll(mapCashuError("burn"))
          )
      )
  })
)
