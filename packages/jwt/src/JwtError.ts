/**
 * Every typed error of the jwt package. One class per decision a caller makes; the sub-kind sits in `reason`.
 * Messages never carry a token or a secret key.
 *
 * HTTP mapping (differences.md §e, §k):
 * - `/jwt/verify`: `InvalidJwt`, `JwtExpired`, `JwtNotYetValid` → 400 `"Failed to verify JWT: " + message`.
 * - `/jwt/issue`: `JwtIssueFailed` → 400 (`Duration`) or 500 (`SecretKey`).
 * - `/auth/nip98`: `Nip98Rejected` → 401 with `message` as the error; `Nip98KeyNotAllowed` and `Nip98Disabled`
 *   → 403 with `message`; `SeenIdsUnavailable` → 503 (the replay store is down: not the client's fault).
 * - Bearer session tokens: `JwtExpired` → 401 `Authentication failed: Session expired`; anything else → 401
 *   `Authentication failed: Invalid token`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A token that fails a structural or cryptographic check, or (for session tokens) a session rule.
 *
 * - `Malformed`: not three base64url segments, or a segment is not the expected JSON.
 * - `Algorithm`: the header's `alg` is not `ES256K`.
 * - `SignatureLength`: the signature is not 64 bytes.
 * - `Signature`: the signature does not verify against the given key.
 * - `Claims`: a claim has the wrong type, or `target_key` is not a public key.
 * - `MissingExp`: no `exp` claim (we require it, differences.md §e).
 * - `Audience`: a session token without `aud == "portal-rest-session"`.
 * - `KeyNotAllowed`: a session token whose `target_key` is no longer in `auth.nip98_pubkeys`.
 * @category errors
 */
export class InvalidJwt extends Schema.TaggedError<InvalidJwt>()("InvalidJwt", {
  reason: Schema.Literal(
    "Malformed",
    "Algorithm",
    "SignatureLength",
    "Signature",
    "Claims",
    "MissingExp",
    "Audience",
    "KeyNotAllowed"
  ),
  detail: Schema.String
}) {
  override get message() {
    switch (this.reason) {
      case "Signature":
        return "invalid signature"
      case "MissingExp":
        return "missing exp claim"
      default:
        return this.detail
    }
  }
}

/**
 * A correctly signed token whose `exp` lies more than the leeway (60 s) in the past.
 * @category errors
 */
export class JwtExpired extends Schema.TaggedError<JwtExpired>()("JwtExpired", {
  exp: Schema.Number,
  now: Schema.Number
}) {
  override get message() {
    return `token expired at ${this.exp}`
  }
}

/**
 * A correctly signed token whose `nbf` lies more than the leeway (60 s) in the future.
 * @category errors
 */
export class JwtNotYetValid extends Schema.TaggedError<JwtNotYetValid>()("JwtNotYetValid", {
  nbf: Schema.Number,
  now: Schema.Number
}) {
  override get message() {
    return `token not valid before ${this.nbf}`
  }
}

/**
 * A token that cannot be issued: the secret key is not a valid secp256k1 scalar (`SecretKey`), or the lifetime
 * is not a whole number of seconds in range (`Duration`).
 * @category errors
 */
export class JwtIssueFailed extends Schema.TaggedError<JwtIssueFailed>()("JwtIssueFailed", {
  reason: Schema.Literal("SecretKey", "Duration"),
  detail: Schema.String
}) {
  override get message() {
    return `cannot issue JWT: ${this.reason}: ${this.detail}`
  }
}

/**
 * A NIP-98 `Authorization` header that fails a check (differences.md §k, steps 1–8), all answered with 401.
 *
 * - `MissingHeader`, `Scheme`, `Malformed`: step 1 (header present, `Nostr` scheme, base64 JSON event).
 * - `Id`, `Signature`: step 2.
 * - `Kind`: step 3.
 * - `Stale`, `Future`: step 4 (`created_at` more than the window before / after now).
 * - `Url`: step 5. `Method`: step 6. `Payload`: step 7. `Replayed`: step 8.
 * @category errors
 */
export class Nip98Rejected extends Schema.TaggedError<Nip98Rejected>()("Nip98Rejected", {
  reason: Schema.Literal(
    "MissingHeader",
    "Scheme",
    "Malformed",
    "Id",
    "Signature",
    "Kind",
    "Stale",
    "Future",
    "Url",
    "Method",
    "Payload",
    "Replayed"
  ),
  detail: Schema.String
}) {
  override get message() {
    return `NIP-98: ${this.detail}`
  }
}

/**
 * A valid NIP-98 event signed by a key that is not in `auth.nip98_pubkeys` (step 9): 403.
 * @category errors
 */
export class Nip98KeyNotAllowed extends Schema.TaggedError<Nip98KeyNotAllowed>()("Nip98KeyNotAllowed", {
  pubkey: Schema.String
}) {
  override get message() {
    return `NIP-98: key ${this.pubkey} is not allowed`
  }
}

/**
 * NIP-98 login is off because no key is allowed (`auth.nip98_pubkeys` is empty): 403.
 * @category errors
 */
export class Nip98Disabled extends Schema.TaggedError<Nip98Disabled>()("Nip98Disabled", {}) {
  override get message() {
    return "NIP-98 login is disabled: set auth.nip98_pubkeys"
  }
}

/**
 * The replay store (seen event ids) failed; the request cannot be judged. Not the client's fault: 503.
 * @category errors
 */
export class SeenIdsUnavailable extends Schema.TaggedError<SeenIdsUnavailable>()("SeenIdsUnavailable", {
  cause: Schema.Defect
}) {
  override get message() {
    return "NIP-98: replay store unavailable"
  }
}

/**
 * The errors of verifying a Portal JWT.
 * @category errors
 */
export type JwtVerifyError = InvalidJwt | JwtExpired | JwtNotYetValid

/**
 * The errors of a NIP-98 check.
 * @category errors
 */
export type Nip98Error = Nip98Rejected | Nip98KeyNotAllowed | Nip98Disabled | SeenIdsUnavailable

/** @category errors */
export type JwtError =
  | InvalidJwt
  | JwtExpired
  | JwtNotYetValid
  | JwtIssueFailed
  | Nip98Rejected
  | Nip98KeyNotAllowed
  | Nip98Disabled
  | SeenIdsUnavailable

/** @category errors */
export const JwtError = Schema.Union(
  InvalidJwt,
  JwtExpired,
  JwtNotYetValid,
  JwtIssueFailed,
  Nip98Rejected,
  Nip98KeyNotAllowed,
  Nip98Disabled,
  SeenIdsUnavailable
)
