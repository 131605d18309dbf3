/**
 * The `jwt` group: issue and verify Portal ES256K JWTs (protocol.md §14, differences.md §e). Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Primitives from "@portal/protocol/Primitives"
import * as Schema from "effect/Schema"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { Authorization, JsonBody } from "./Middleware.js"

/** @category models */
export const IssueJwtRequest = Schema.Struct({
  target_key: Inputs.TargetKey,
  duration_hours: Inputs.DurationHours
}).annotations({ identifier: "IssueJwtRequest" })

/** @category models */
export const VerifyJwtRequest = Schema.Struct({ pubkey: Inputs.Pubkey, token: Schema.String }).annotations({
  identifier: "VerifyJwtRequest"
})

/** @category models */
export const Token = Schema.Struct({ token: Schema.String }).annotations({ identifier: "Token" })

/** @category models */
export const VerifiedJwt = Schema.Struct({ target_key: Primitives.PublicKeyHex }).annotations({
  identifier: "VerifiedJwt"
})

/** @category groups */
export class JwtApi extends HttpApiGroup.make("jwt")
  .add(
    HttpApiEndpoint.post("issue", "/jwt/issue")
      .setPayload(IssueJwtRequest)
      .addSuccess(Envelope.Success(Token))
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Issues a JWT for `target_key`, signed by the daemon's key.")
  )
  .add(
    HttpApiEndpoint.post("verify", "/jwt/verify")
      .setPayload(VerifyJwtRequest)
      .addSuccess(Envelope.Success(VerifiedJwt))
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Verifies a JWT issued by `pubkey` (signature, `exp`, `nbf` with 60 s leeway).")
  ) {}
