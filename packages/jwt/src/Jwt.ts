/**
 * Portal JWTs (protocol.md §14): ES256K (ECDSA over secp256k1, SHA-256, RFC 6979, low-S, compact r‖s) signed
 * with a Nostr secret key, negated first when its point has odd Y so that the verification key is
 * `lift_x_even(nostr pubkey)`. Header exactly `{"alg":"ES256K"}`; claims in the order `exp`, `nbf`, `iat`,
 * `target_key` (then `aud` for session tokens), integers for times.
 *
 * `decode` checks what the reference checks (alg, a 64-byte signature, the signature, `target_key`); `verify`
 * adds the time policy of differences.md §e: `exp` required, `now > exp + 60` is expired, `now < nbf − 60` is not
 * yet valid. Every failure is a typed error (`JwtError`). The `Jwt` service binds a key pair and the `Clock`.
 * Backend: `@noble/curves`.
 *
 * @since 0.1.0
 */
import type * as Keys from "@portal/nostr/Keys"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as PublicKey from "@portal/protocol/PublicKey"
import { base64urlnopad } from "@scure/base"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Es256k from "./internal/es256k.js"
import { InvalidJwt, JwtExpired, JwtIssueFailed, JwtNotYetValid, type JwtVerifyError } from "./JwtError.js"

/**
 * The only algorithm Portal JWTs use.
 * @category constants
 */
export const ALGORITHM = "ES256K"

/**
 * The header, byte for byte; its segment is always `eyJhbGciOiJFUzI1NksifQ`.
 * @category constants
 */
export const HEADER = `{"alg":"${ALGORITHM}"}`

/**
 * Clock-skew allowance for `exp` and `nbf`, in seconds (differences.md §e).
 * @category constants
 */
export const LEEWAY_SECONDS = 60

/**
 * What a correctly signed token says. Times are Unix seconds.
 * @category models
 */
export interface Claims {
  /** The key the signer authorised (lowercase hex; hex, npub and `nostr:` forms are accepted on input). */
  readonly targetKey: PublicKeyHex
  readonly exp: Option.Option<number>
  readonly nbf: Option.Option<number>
  readonly iat: Option.Option<number>
  /** The `aud` claim as a list (empty when absent). */
  readonly audience: ReadonlyArray<string>
}

/**
 * Claims of a token that also passed the time checks: `exp` is present.
 * @category models
 */
export interface Verified extends Claims {
  readonly expiresAt: number
}

/**
 * What to sign. `now` and `durationSeconds` are whole seconds; `exp = now + durationSeconds`, `iat = nbf = now`.
 * @category models
 */
export interface IssueOptions {
  readonly secretKey: Redacted.Redacted<Uint8Array>
  readonly targetKey: PublicKeyHex
  readonly now: number
  readonly durationSeconds: number
  /** Appended as the last claim, `aud` (session tokens only). */
  readonly audience?: string
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder("utf-8", { fatal: true })
const HEADER_SEGMENT = base64urlnopad.encode(utf8.encode(HEADER))

const malformed = (detail: string) => new InvalidJwt({ reason: "Malformed", detail })

const ClaimsJson = Schema.parseJson(
  Schema.Struct({
    exp: Schema.optional(Schema.Int),
    nbf: Schema.optional(Schema.Int),
    iat: Schema.optional(Schema.Int),
    target_key: Schema.String,
    aud: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String)))
  })
)
const decodeClaimsJson = Schema.decodeUnknownEither(ClaimsJson)
const HeaderJson = Schema.parseJson(Schema.Struct({ alg: Schema.optional(Schema.Unknown) }))
const decodeHeaderJson = Schema.decodeUnknownEither(HeaderJson)

const segment = (name: string, text: string): Either.Either<Uint8Array, InvalidJwt> =>
  Either.try({
    try: () => base64urlnopad.decode(text),
    catch: () => malformed(`${name}: not unpadded base64url`)
  })

const utf8Text = (name: string, bytes: Uint8Array): Either.Either<string, InvalidJwt> =>
  Either.try({ try: () => utf8Strict.decode(bytes), catch: () => malformed(`${name}: not UTF-8`) })

const decodeEither = (token: string, publicKey: PublicKeyHex): Either.Either<Claims, InvalidJwt> =>
  Either.gen(function* () {
    const parts = token.split(".")
    if (parts.length !== 3)
      return yield* Either.left(malformed(`expected 3 dot-separated segments, got ${parts.length}`))
    const [headerB64, claimsB64, signatureB64] = parts as [string, string, string]
    const headerText = yield* utf8Text("header", yield* segment("header", headerB64))
    const header = yield* Either.mapLeft(decodeHeaderJson(headerText), () => malformed("header: not a JSON object"))
    if (header.alg !== ALGORITHM) {
      return yield* Either.left(
        new InvalidJwt({
          reason: "Algorithm",
          detail: `unsupported alg ${header.alg === undefined ? "(none)" : JSON.stringify(header.alg)}, expected ES256K`
        })
      )
    }
    const claimsBytes = yield* segment("claims", claimsB64)
    const signature = yield* segment("signature", signatureB64)
    if (signature.length !== 64) {
      return yield* Either.left(
        new InvalidJwt({ reason: "SignatureLength", detail: `signature: expected 64 bytes, got ${signature.length}` })
      )
    }
    if (!Es256k.verify(signature, utf8.encode(`${headerB64}.${claimsB64}`), publicKey)) {
      return yield* Either.left(new InvalidJwt({ reason: "Signature", detail: `does not verify against ${publicKey}` }))
    }
    const claims = yield* Either.mapLeft(
      decodeClaimsJson(yield* utf8Text("claims", claimsBytes)),
      (error) =>
        new InvalidJwt({ reason: "Claims", detail: `claims: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
    )
    const targetKey = yield* Either.mapLeft(
      PublicKey.parseEither(claims.target_key),
      (error) => new InvalidJwt({ reason: "Claims", detail: `target_key: ${error.detail}` })
    )
    return {
      targetKey,
      exp: Option.fromNullable(claims.exp),
      nbf: Option.fromNullable(claims.nbf),
      iat: Option.fromNullable(claims.iat),
      audience: claims.aud === undefined ? [] : typeof claims.aud === "string" ? [claims.aud] : claims.aud
    }
  })

/**
 * Checks a token as the reference does: `alg == "ES256K"`, a 64-byte signature that verifies against
 * `lift_x_even(publicKey)` (high-S accepted), and a `target_key`. Time claims are read, not checked.
 * @category verification
 */
export const decode = (token: string, publicKey: PublicKeyHex): Effect.Effect<Claims, InvalidJwt> =>
  Effect.suspend(() => decodeEither(token, publicKey))

/**
 * The time policy of differences.md §e at `now` (Unix seconds): `exp` is required, the token is expired when
 * `now > exp + 60` and not yet valid when `now < nbf − 60`; `iat` is ignored.
 * @category verification
 */
export const checkTime = (claims: Claims, now: number): Either.Either<Verified, JwtVerifyError> => {
  if (Option.isNone(claims.exp)) {
    return Either.left(new InvalidJwt({ reason: "MissingExp", detail: "the exp claim is required" }))
  }
  const exp = claims.exp.value
  if (now > exp + LEEWAY_SECONDS) return Either.left(new JwtExpired({ exp, now }))
  if (Option.isSome(claims.nbf) && now < claims.nbf.value - LEEWAY_SECONDS) {
    return Either.left(new JwtNotYetValid({ nbf: claims.nbf.value, now }))
  }
  return Either.right({ ...claims, expiresAt: exp })
}

/**
 * `decode`, then `checkTime` at `now` (Unix seconds).
 * @category verification
 */
export const verify = (token: string, publicKey: PublicKeyHex, now: number): Effect.Effect<Verified, JwtVerifyError> =>
  Effect.suspend(() => Either.flatMap(decodeEither(token, publicKey), (claims) => checkTime(claims, now)))

/**
 * Signs a token (protocol.md §14). Deterministic: the same options give the same token.
 * @category issuing
 */
export const issue = (options: IssueOptions): Effect.Effect<string, JwtIssueFailed> =>
  Effect.suspend(() => {
    const { durationSeconds, now } = options
    if (!Number.isSafeInteger(now) || now < 0) {
      return Effect.fail(
        new JwtIssueFailed({ reason: "Duration", detail: `now: expected whole seconds ≥ 0, got ${now}` })
      )
    }
    if (!Number.isSafeInteger(durationSeconds) || durationSeconds < 1 || !Number.isSafeInteger(now + durationSeconds)) {
      return Effect.fail(
        new JwtIssueFailed({
          reason: "Duration",
          detail: `durationSeconds: expected a whole number of seconds ≥ 1, got ${durationSeconds}`
        })
      )
    }
    const secret = Redacted.value(options.secretKey)
    if (!Es256k.isValidSecretKey(secret)) {
      return Effect.fail(new JwtIssueFailed({ reason: "SecretKey", detail: "expected 32 bytes in [1, n-1]" }))
    }
    // insertion order is serialisation order: exp, nbf, iat, target_key, aud
    const claims: Record<string, string | number> = {
      exp: now + durationSeconds,
      nbf: now,
      iat: now,
      target_key: options.targetKey
    }
    if (options.audience !== undefined) claims.aud = options.audience
    const signingInput = `${HEADER_SEGMENT}.${base64urlnopad.encode(utf8.encode(JSON.stringify(claims)))}`
    const signature = Es256k.sign(utf8.encode(signingInput), secret)
    return Effect.succeed(`${signingInput}.${base64urlnopad.encode(signature)}`)
  })

/**
 * Current Unix time in whole seconds, from the `Clock`.
 * @category time
 */
export const nowSeconds: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/**
 * Portal JWTs bound to one key pair (the daemon's, or its subkey) and the `Clock`.
 * @category service
 */
export interface Service {
  /** The key tokens are verified against: the x-only public key of the signing pair. */
  readonly publicKey: PublicKeyHex
  /** A token authorising `targetKey`, valid from now for `durationSeconds`. */
  readonly issue: (targetKey: PublicKeyHex, durationSeconds: number) => Effect.Effect<string, JwtIssueFailed>
  /** Signature and time checks against `publicKey` (any issuer), at the current time. */
  readonly verify: (token: string, publicKey: PublicKeyHex) => Effect.Effect<Verified, JwtVerifyError>
}

/**
 * The Portal JWT service.
 * @category service
 */
export class Jwt extends Context.Tag("@portal/jwt/Jwt")<Jwt, Service>() {}

/**
 * A `Jwt` service signing with `keys`.
 * @category constructors
 */
export const make = (keys: Keys.KeyPair): Service =>
  Jwt.of({
    publicKey: keys.publicKey,
    issue: (targetKey, durationSeconds) =>
      Effect.flatMap(nowSeconds, (now) => issue({ secretKey: keys.secretKey, targetKey, now, durationSeconds })),
    verify: (token, publicKey) => Effect.flatMap(nowSeconds, (now) => verify(token, publicKey, now))
  })

/**
 * The `Jwt` service signing with `keys`.
 * @category layers
 */
export const layer = (keys: Keys.KeyPair): Layer.Layer<Jwt> => Layer.succeed(Jwt, make(keys))
