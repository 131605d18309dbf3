/**
 * NIP-98 → session tokens (differences.md §k). A caller proves its key with a NIP-98 header on
 * `GET /auth/nip98` and gets a short-lived Portal JWT (ES256K, protocol.md §14) signed with the daemon's key:
 * claims `exp, nbf, iat, target_key, aud` with `aud = "portal-rest-session"`, lifetime `auth.session_ttl_secs`
 * (default 300, 60–86400). Sessions are stateless: every instance sharing the daemon key accepts them.
 *
 * A bearer session token is accepted iff its signature verifies against the daemon key, `aud` is
 * `portal-rest-session`, `exp`/`nbf` pass with 60 s leeway, and `target_key` is still allowed. `JwtExpired` means
 * "Session expired"; every other failure "Invalid token". Tokens from `/jwt/issue` have no `aud`, so they never
 * pass as sessions.
 *
 * @since 0.1.0
 */
import * as Event from "@portal/nostr/Event"
import type * as Keys from "@portal/nostr/Keys"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Jwt from "./Jwt.js"
import { InvalidJwt, JwtIssueFailed, type JwtVerifyError, type Nip98Error } from "./JwtError.js"
import * as Nip98 from "./Nip98.js"
import { SeenIds } from "./SeenIds.js"

/**
 * The `aud` of every session token.
 * @category constants
 */
export const AUDIENCE = "portal-rest-session"

/**
 * Session lifetime bounds and default, in seconds (`auth.session_ttl_secs`).
 * @category constants
 */
export const DEFAULT_TTL_SECONDS = 300
/** @category constants */
export const MIN_TTL_SECONDS = 60
/** @category constants */
export const MAX_TTL_SECONDS = 86400

/**
 * An issued session: the bearer token, when it expires (Unix seconds, the `exp` claim) and for whom.
 * @category models
 */
export interface SessionToken {
  readonly token: string
  readonly expiresAt: number
  readonly pubkey: PublicKeyHex
}

const checkTtl = (ttlSeconds: number): Either.Either<number, JwtIssueFailed> =>
  Number.isInteger(ttlSeconds) && ttlSeconds >= MIN_TTL_SECONDS && ttlSeconds <= MAX_TTL_SECONDS
    ? Either.right(ttlSeconds)
    : Either.left(
        new JwtIssueFailed({
          reason: "Duration",
          detail: `session ttl: expected whole seconds in ${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}, got ${ttlSeconds}`
        })
      )

/**
 * Signs a session token for `targetKey` at `now` (Unix seconds).
 * @category issuing
 */
export const issue = (options: {
  readonly secretKey: Redacted.Redacted<Uint8Array>
  readonly targetKey: PublicKeyHex
  readonly now: number
  readonly ttlSeconds: number
}): Effect.Effect<SessionToken, JwtIssueFailed> =>
  Effect.flatMap(checkTtl(options.ttlSeconds), (ttlSeconds) =>
    Effect.map(
      Jwt.issue({
        secretKey: options.secretKey,
        targetKey: options.targetKey,
        now: options.now,
        durationSeconds: ttlSeconds,
        audience: AUDIENCE
      }),
      (token) => ({ token, expiresAt: options.now + ttlSeconds, pubkey: options.targetKey })
    )
  )

/**
 * Checks a bearer session token at `now`: signature against `publicKey` (the daemon's), `aud`, then time, then
 * that `isAllowed(target_key)` still holds. Succeeds with the caller's key.
 * @category verification
 */
export const verify = (
  token: string,
  options: {
    readonly publicKey: PublicKeyHex
    readonly now: number
    readonly isAllowed: (key: PublicKeyHex) => boolean
  }
): Effect.Effect<PublicKeyHex, JwtVerifyError> =>
  Effect.gen(function* () {
    const claims = yield* Jwt.decode(token, options.publicKey)
    if (!claims.audience.includes(AUDIENCE)) {
      return yield* new InvalidJwt({ reason: "Audience", detail: `not a session token (aud must be ${AUDIENCE})` })
    }
    const verified = yield* Jwt.checkTime(claims, options.now)
    if (!options.isAllowed(verified.targetKey)) {
      return yield* new InvalidJwt({
        reason: "KeyNotAllowed",
        detail: `key ${verified.targetKey} is no longer allowed`
      })
    }
    return verified.targetKey
  })

/**
 * Session login and bearer authentication for the daemon.
 * @category service
 */
export interface Service {
  /** False when no key is allowed: `login` then fails with `Nip98Disabled`. */
  readonly enabled: boolean
  /** The NIP-98 exchange: verifies the request's header, then issues a session token for its key. */
  readonly login: (request: Nip98.Request) => Effect.Effect<SessionToken, Nip98Error>
  /** Checks a bearer token (without the `Bearer ` prefix); succeeds with the caller's key. */
  readonly authenticate: (token: string) => Effect.Effect<PublicKeyHex, JwtVerifyError>
}

/**
 * The sessions service.
 * @category service
 */
export class Sessions extends Context.Tag("@portal/jwt/Session/Sessions")<Sessions, Service>() {}

/**
 * Settings: the daemon's key pair (the signer of sessions), the allowed keys and the lifetime.
 * @category models
 */
export interface Options {
  readonly keys: Keys.KeyPair
  readonly allowedKeys: Iterable<PublicKeyHex>
  /** Default 300; must be whole seconds in 60..86400. */
  readonly ttlSeconds?: number
  /** NIP-98 `created_at` window; default 60. */
  readonly windowSeconds?: number
}

/**
 * Builds the service; fails with `JwtIssueFailed` (`Duration`) on a lifetime out of range.
 * @category constructors
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const ttlSeconds = yield* checkTtl(options.ttlSeconds ?? DEFAULT_TTL_SECONDS)
  const allowed = new Set<PublicKeyHex>(options.allowedKeys)
  const nip98 = yield* Nip98.make({
    allowedKeys: allowed,
    ...(options.windowSeconds === undefined ? {} : { windowSeconds: options.windowSeconds })
  })
  const { keys } = options

  const login: Service["login"] = Effect.fn("Session.login")(function* (request: Nip98.Request) {
    const event = yield* nip98.verify(request)
    const now = yield* Jwt.nowSeconds
    // the key pair and the ttl were validated above: issuing cannot fail
    return yield* Effect.orDie(issue({ secretKey: keys.secretKey, targetKey: event.pubkey, now, ttlSeconds }))
  })

  const authenticate: Service["authenticate"] = Effect.fn("Session.authenticate")(function* (token: string) {
    const now = yield* Jwt.nowSeconds
    return yield* verify(token, { publicKey: keys.publicKey, now, isAllowed: (key) => allowed.has(key) })
  })

  return Sessions.of({ enabled: nip98.enabled, login, authenticate })
})

/**
 * The sessions service; needs an event verifier and the seen-ids port.
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Sessions, JwtIssueFailed, Event.Verifier | SeenIds> =>
  Layer.effect(Sessions, make(options))
