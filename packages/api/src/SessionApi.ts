/**
 * The `session` group: `GET /auth/nip98` exchanges a NIP-98 `Authorization: Nostr <base64 event>` header for a
 * short-lived session token usable as a bearer token (differences.md §k). Public: no bearer token needed.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import { DecimalSeconds } from "./Events.js"

/** @category models */
export const SessionToken = Schema.Struct({ token: Schema.String, expires_at: DecimalSeconds }).annotations({
  identifier: "SessionToken"
})

/** @category groups */
export class SessionApi extends HttpApiGroup.make("session").add(
  HttpApiEndpoint.get("nip98", "/auth/nip98")
    .addSuccess(Envelope.Success(SessionToken))
    .addError(ApiError.UnauthorizedResponse)
    .addError(ApiError.ForbiddenResponse)
    .annotate(
      OpenApi.Description,
      "NIP-98 login: send `Authorization: Nostr <base64 kind-27235 event>` for this URL and method; get a session " +
        "token (ES256K JWT) to use as `Authorization: Bearer`. Allowed keys: `auth.nip98_pubkeys`."
    )
) {}
