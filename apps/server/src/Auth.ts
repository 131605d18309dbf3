/**
 * Bearer authentication of the API (rest-api.md §1.2, differences.md §i): `Authorization: Bearer <token>`, exactly
 * that prefix (case-sensitive, one space), the rest compared with the configured API token in constant time.
 * Failures are 401 `{"success":false,"error":"Authentication failed: …"}` with `WWW-Authenticate: Bearer` (the header
 * is added where errors become responses, `Http/Errors.ts`).
 *
 * The token comes from the `ApiToken` tag, which `main.ts` provides from the resolved secrets. A NIP-98 session
 * token (differences.md §k, `@portal/jwt` `Sessions`) is accepted too until it expires: an expired one is 401
 * `Authentication failed: Session expired`, any other bad one `Authentication failed: Invalid token`. The static
 * token is compared first, so it keeps working whatever the sessions say.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Unauthorized } from "@portal/api/ApiError"
import { Authorization } from "@portal/api/Middleware"
import * as Session from "@portal/jwt/Session"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"

/**
 * The static API token (`auth.auth_token`, or the generated one).
 * @category tags
 */
export class ApiToken extends Context.Tag("@portal/server/ApiToken")<ApiToken, Redacted.Redacted<string>>() {}

/**
 * Provides the API token.
 * @category layers
 */
export const layerApiToken = (token: Redacted.Redacted<string>): Layer.Layer<ApiToken> => Layer.succeed(ApiToken, token)

// Both sides are hashed first so that the comparison takes the same time whatever the lengths.
const digest = (value: string) => createHash("sha256").update(value, "utf8").digest()

// The API token's digest, computed once per token rather than on every request.
const expectedDigests = new WeakMap<Redacted.Redacted<string>, Buffer>()
const expectedDigest = (expected: Redacted.Redacted<string>): Buffer => {
  let known = expectedDigests.get(expected)
  if (known === undefined) {
    known = digest(Redacted.value(expected))
    expectedDigests.set(expected, known)
  }
  return known
}

/**
 * Constant-time equality of a presented token and the API token.
 * @category auth
 */
export const tokenMatches = (presented: string, expected: Redacted.Redacted<string>): boolean =>
  timingSafeEqual(digest(presented), expectedDigest(expected))

const failed = (reason: string) => new Unauthorized({ error: `Authentication failed: ${reason}` })

const prefix = "Bearer "

// A JWT is three base64url segments: anything else cannot be a session token and is not parsed as one.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Checks one request's `Authorization` header: the static token, else (when `sessions` is given) a session token.
 * @category auth
 */
export const check = (
  header: string | undefined,
  expected: Redacted.Redacted<string>,
  sessions?: Session.Service
): Effect.Effect<void, Unauthorized> => {
  if (header === undefined) return Effect.fail(failed("Missing Authorization header"))
  if (!header.startsWith(prefix)) return Effect.fail(failed("Invalid Authorization header format"))
  const presented = header.slice(prefix.length)
  if (tokenMatches(presented, expected)) return Effect.void
  if (sessions === undefined || !sessions.enabled || !JWT_SHAPE.test(presented)) {
    return Effect.fail(failed("Invalid token"))
  }
  return sessions.authenticate(presented).pipe(
    Effect.asVoid,
    Effect.mapError((error) => failed(error._tag === "JwtExpired" ? "Session expired" : "Invalid token"))
  )
}

/**
 * The `Authorization` middleware of the contract: the static token or a NIP-98 session token.
 * @category layers
 */
export const AuthorizationLayer: Layer.Layer<Authorization, never, ApiToken | Session.Sessions> = Layer.effect(
  Authorization,
  Effect.gen(function* () {
    const token = yield* ApiToken
    const sessions = yield* Session.Sessions
    return Authorization.of({
      // The framework's bearer decoding cannot tell a missing header from a malformed one, so the raw header is read.
      bearerAuth: () =>
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
          check(request.headers["authorization"], token, sessions)
        )
    })
  })
)
