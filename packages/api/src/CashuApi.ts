/**
 * The `cashu` group: request ecash from a user (a stream, 201), send a token directly, and mint or burn tokens
 * with a throwaway wallet. Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { startsStream } from "./KeysApi.js"
import { Authorization, JsonBody } from "./Middleware.js"
import { Message } from "./PaymentsApi.js"
import { Token } from "./JwtApi.js"

/** @category models */
export const CashuRequest = Schema.Struct({
  recipient_key: Inputs.RecipientKey,
  subkeys: Inputs.Subkeys,
  mint_url: Schema.String,
  unit: Schema.String,
  amount: Inputs.PositiveAmount
}).annotations({ identifier: "CashuRequest" })

/** @category models */
export const CashuSendDirectRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys,
  token: Schema.String
}).annotations({ identifier: "CashuSendDirectRequest" })

/** @category models */
export const CashuMintRequest = Schema.Struct({
  mint_url: Schema.String,
  unit: Schema.String,
  amount: Inputs.PositiveAmount,
  static_auth_token: Inputs.optional(Schema.String),
  description: Inputs.optional(Schema.String)
}).annotations({ identifier: "CashuMintRequest" })

/** @category models */
export const CashuBurnRequest = Schema.Struct({
  mint_url: Schema.String,
  unit: Schema.String,
  token: Schema.String,
  static_auth_token: Inputs.optional(Schema.String)
}).annotations({ identifier: "CashuBurnRequest" })

/** @category models */
export const CashuAmount = Schema.Struct({ amount: Schema.Int.pipe(Schema.nonNegative()) }).annotations({
  identifier: "CashuAmount"
})

/** @category groups */
export class CashuApi extends HttpApiGroup.make("cashu")
  .add(
    startsStream(
      "request",
      "/cashu/request",
      CashuRequest,
      "Asks a user for Cashu tokens; one `cashu_response` or `error` follows."
    )
  )
  .add(
    HttpApiEndpoint.post("sendDirect", "/cashu/send-direct")
      .setPayload(CashuSendDirectRequest)
      .addSuccess(Envelope.Success(Message))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Sends a Cashu token to a user.")
  )
  .add(
    HttpApiEndpoint.post("mint", "/cashu/mint")
      .setPayload(CashuMintRequest)
      .addSuccess(Envelope.Success(Token))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Mints a token at a mint that issues without payment (static auth).")
  )
  .add(
    HttpApiEndpoint.post("burn", "/cashu/burn")
      .setPayload(CashuBurnRequest)
      .addSuccess(Envelope.Success(CashuAmount))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Receives a token into a throwaway wallet; answers the amount in the token's unit."
      )
  ) {}
