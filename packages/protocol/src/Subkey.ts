/**
 * Portal subkeys (protocol.md §5.11, §13): a child key derived from a master key by a non-hardened tweak, and the
 * proof `{main_key, metadata}` that anyone holding the master *public* key can check.
 *
 * ```
 * tweak    = SHA256(T ‖ T ‖ canonical_bytes(metadata)),  T = SHA256("Portal/Subkey")   (a BIP340 tagged hash)
 * child_sk = (d + tweak) mod n, with d negated first when d·G has odd Y               (BIP340 even-Y normalisation)
 * child_pk = x-only(lift_x(main_key) + tweak·G)
 * ```
 *
 * The reference checks only the math. We also reject a proof received from a peer when `now` lies outside
 * `[valid_from − 60 s, expires_at + 60 s]` (pass `now` to `verifyProof`). Permissions are carried, not enforced.
 * Subkey timestamps are u64 (`expires_at` is often u64::MAX), so they are `bigint` here.
 * Backend: `@noble/curves` secp256k1 point and scalar arithmetic.
 *
 * @since 0.1.0
 */
import { schnorr } from "@noble/curves/secp256k1.js"
import { bytesToHex, bytesToNumberBE, hexToBytes } from "@noble/curves/utils.js"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { PublicKeyHex, U64TimestampFromString, Uint8 } from "./Primitives.js"
import { InvalidSubkeyProof, SubkeyDerivationError } from "./ProtocolError.js"
import { PublicKeyFromInput } from "./PublicKey.js"

const utf8 = new TextEncoder()

/**
 * 32 bytes as 64 lowercase hex characters: the subkey nonce.
 * @category schemas
 */
export const NonceHex = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected 64 lowercase hex characters (32 bytes)" }),
  Schema.brand("NonceHex")
)
/** @category schemas */
export type NonceHex = typeof NonceHex.Type

/**
 * The nonce on the wire: 64 hex characters in any case, re-emitted in lowercase.
 * @category schemas
 */
export const NonceFromHex = Schema.transform(
  Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]{64}$/, { message: () => "expected 64 hex characters (32 bytes)" })),
  NonceHex,
  { strict: true, decode: (hex) => hex.toLowerCase(), encode: (hex) => hex }
)

/**
 * What a subkey may be used for. Carried in the proof; no semantics are defined, so nothing enforces it.
 * @category schemas
 */
export const Permission = Schema.Literal("auth", "payment")
/** @category schemas */
export type Permission = typeof Permission.Type

const SubkeyName = Schema.String.pipe(
  Schema.filter((name) => utf8.encode(name).length <= 0xffff || "expected a name of at most 65535 UTF-8 bytes")
)

/**
 * Subkey metadata: wire `{name, nonce, valid_from, expires_at, permissions, version}` with string timestamps.
 * @category schemas
 */
export const SubkeyMetadata = Schema.Struct({
  name: SubkeyName,
  nonce: NonceFromHex,
  validFrom: Schema.propertySignature(U64TimestampFromString).pipe(Schema.fromKey("valid_from")),
  expiresAt: Schema.propertySignature(U64TimestampFromString).pipe(Schema.fromKey("expires_at")),
  permissions: Schema.Array(Permission),
  version: Uint8
}).annotations({ identifier: "SubkeyMetadata" })
/** @category schemas */
export type SubkeyMetadata = typeof SubkeyMetadata.Type

/**
 * A subkey proof: the master's public key and the metadata the subkey was derived with (kind 30000 content, and
 * `subkey_proof` inside auth messages). There is no signature: the derivation is the proof.
 * @category schemas
 */
export const SubkeyProof = Schema.Struct({
  mainKey: Schema.propertySignature(PublicKeyFromInput).pipe(Schema.fromKey("main_key")),
  metadata: SubkeyMetadata
}).annotations({ identifier: "SubkeyProof" })
/** @category schemas */
export type SubkeyProof = typeof SubkeyProof.Type

const permissionBits: Record<Permission, number> = { auth: 0x01, payment: 0x02 }

/**
 * The bytes the tweak hashes: version u8 ‖ name length u16 LE ‖ name UTF-8 ‖ nonce 32 ‖ valid_from u64 LE ‖
 * expires_at u64 LE ‖ permission bits u8 (auth 0x01 | payment 0x02).
 * @category derivation
 */
export const canonicalBytes = (metadata: SubkeyMetadata): Uint8Array => {
  const name = utf8.encode(metadata.name)
  const bytes = new Uint8Array(1 + 2 + name.length + 32 + 8 + 8 + 1)
  const view = new DataView(bytes.buffer)
  let offset = 0
  view.setUint8(offset, metadata.version)
  offset += 1
  view.setUint16(offset, name.length, true)
  offset += 2
  bytes.set(name, offset)
  offset += name.length
  bytes.set(hexToBytes(metadata.nonce), offset)
  offset += 32
  view.setBigUint64(offset, metadata.validFrom, true)
  offset += 8
  view.setBigUint64(offset, metadata.expiresAt, true)
  offset += 8
  view.setUint8(
    offset,
    metadata.permissions.reduce((bits, permission) => bits | permissionBits[permission], 0)
  )
  return bytes
}

/**
 * The tweak: the BIP340 tagged hash `"Portal/Subkey"` of `canonicalBytes(metadata)`, 32 bytes, big-endian.
 * @category derivation
 */
export const tweak = (metadata: SubkeyMetadata): Uint8Array =>
  schnorr.utils.taggedHash("Portal/Subkey", canonicalBytes(metadata))

const Point = schnorr.Point
const Fn = Point.Fn

const tweakScalar = (metadata: SubkeyMetadata): Effect.Effect<bigint, SubkeyDerivationError> => {
  const t = bytesToNumberBE(tweak(metadata))
  return t < Fn.ORDER
    ? Effect.succeed(t)
    : Effect.fail(new SubkeyDerivationError({ reason: "Tweak", detail: "tweak is not below the curve order" }))
}

const tweakPoint = (t: bigint) => (t === 0n ? Point.ZERO : Point.BASE.multiply(t))

/**
 * Derives the subkey's 32-byte secret from the master's: the master secret is negated first when its public key
 * has an odd Y (BIP340), then the tweak is added mod n.
 * @category derivation
 */
export const deriveSubkeySecret = (
  masterSecret: Uint8Array,
  metadata: SubkeyMetadata
): Effect.Effect<Uint8Array, SubkeyDerivationError> =>
  Effect.gen(function* () {
    const d = masterSecret.length === 32 ? bytesToNumberBE(masterSecret) : 0n
    if (!Fn.isValidNot0(d)) {
      return yield* new SubkeyDerivationError({
        reason: "MasterSecret",
        detail: "expected a 32-byte secret key in [1, n − 1]"
      })
    }
    const even = Point.BASE.multiply(d).y % 2n === 0n ? d : Fn.neg(d)
    const child = Fn.add(even, yield* tweakScalar(metadata))
    if (Fn.is0(child)) {
      return yield* new SubkeyDerivationError({ reason: "Tweak", detail: "the child secret is zero" })
    }
    return Fn.toBytes(child)
  })

/**
 * Derives the subkey's public key from the master's public key alone: `x-only(lift_x(mainKey) + tweak·G)`.
 * @category derivation
 */
export const deriveSubkeyPublic = (
  mainKey: PublicKeyHex,
  metadata: SubkeyMetadata
): Effect.Effect<PublicKeyHex, SubkeyDerivationError> =>
  Effect.gen(function* () {
    const master = yield* Effect.try({
      try: () => schnorr.utils.lift_x(BigInt(`0x${mainKey}`)),
      catch: () => new SubkeyDerivationError({ reason: "MainKey", detail: `${mainKey} is not a curve point` })
    })
    const child = master.add(tweakPoint(yield* tweakScalar(metadata)))
    if (child.is0()) {
      return yield* new SubkeyDerivationError({ reason: "Tweak", detail: "the child key is the point at infinity" })
    }
    return PublicKeyHex.make(bytesToHex(schnorr.utils.pointToBytes(child)))
  })

/** Proofs received from peers are accepted this many seconds outside their validity window (clock skew). */
const LEEWAY_SECONDS = 60n

/**
 * Checks that `subkey` is the key `proof` derives from `proof.mainKey`. When `now` (Unix seconds) is given, also
 * checks that it lies within `[valid_from − 60 s, expires_at + 60 s]`; leave it out to check the math only, as the
 * reference does (for example for our own configured proof).
 * @category verification
 */
export const verifyProof = (
  proof: SubkeyProof,
  subkey: PublicKeyHex,
  now?: number
): Effect.Effect<void, InvalidSubkeyProof> =>
  Effect.gen(function* () {
    const derived = yield* deriveSubkeyPublic(proof.mainKey, proof.metadata).pipe(
      Effect.mapError((error) => new InvalidSubkeyProof({ reason: "Malformed", detail: error.message }))
    )
    if (derived !== subkey) {
      return yield* new InvalidSubkeyProof({
        reason: "Derivation",
        detail: `main key ${proof.mainKey} with this metadata derives ${derived}, not ${subkey}`
      })
    }
    if (now === undefined) return
    if (!Number.isFinite(now)) return yield* Effect.dieMessage(`verifyProof: now must be finite, got ${now}`)
    const seconds = BigInt(Math.floor(now))
    if (seconds < proof.metadata.validFrom - LEEWAY_SECONDS) {
      return yield* new InvalidSubkeyProof({
        reason: "NotYetValid",
        detail: `valid from ${proof.metadata.validFrom}, now is ${seconds}`
      })
    }
    if (seconds > proof.metadata.expiresAt + LEEWAY_SECONDS) {
      return yield* new InvalidSubkeyProof({
        reason: "Expired",
        detail: `expired at ${proof.metadata.expiresAt}, now is ${seconds}`
      })
    }
  })
