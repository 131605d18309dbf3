/**
 * Handlers of the `jwt` group (rest-api.md §3, differences.md §e): `POST /jwt/issue` signs an ES256K Portal JWT
 * (protocol.md §14) for `target_key` with the daemon's key, valid for `duration_hours`; `POST /jwt/verify` checks a
 * token against the issuer `pubkey`: signature, `exp` (required) and `nbf`, with 60 s leeway. Every verification
 * failure is 400 `Failed to verify JWT: <why>`.
 *
 * Needs the `@portal/jwt` `Jwt` service bound to the daemon's key pair (`main.ts`).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { BadRequest, InternalError } from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Jwt from "@portal/jwt/Jwt"
import type { JwtIssueFailed, JwtVerifyError } from "@portal/jwt/JwtError"
import * as Effect from "effect/Effect"

const issueFailed = (error: JwtIssueFailed) =>
  error.reason === "Duration"
    ? new BadRequest({ error: `duration_hours: ${error.detail}` })
    : new InternalError({ error: `Failed to issue JWT: ${error.detail}` })

const verifyFailed = (error: JwtVerifyError) => new BadRequest({ error: `Failed to verify JWT: ${error.message}` })

/** @category layers */
export const JwtHandlers = HttpApiBuilder.group(PortalApi, "jwt", (handlers) =>
  Effect.map(Jwt.Jwt, (jwt) =>
    handlers
      .handle("issue", ({ payload }) =>
        jwt.issue(payload.target_key, payload.duration_hours * 3600).pipe(
          Effect.mapError(issueFailed),
          Effect.map((token) => ({ success: true as const, data: { token } }))
        )
      )
      .handle("verify", ({ payload }) =>
        jwt.verify(payload.token, payload.pubkey).pipe(
          Effect.mapError(verifyFailed),
          Effect.map((verified) => ({ success: true as const, data: { target_key: verified.targetKey } }))
        )
      )
  )
)
