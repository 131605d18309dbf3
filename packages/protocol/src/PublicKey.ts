/**
 * Nostr public keys (BIP340 x-only secp256k1) in the forms Portal meets them: 64-char hex, NIP-19 `npub1…` and the
 * NIP-21 `nostr:npub1…` URI. Inside Portal content a key is always emitted as lowercase hex; on input the reference
 * also accepts the bech32 forms, and so do we (`PublicKeyFromInput`).
 *
 * We are stricter than the reference on one point (differences.md §p): a key must be the x-coordinate of a curve
 * point (BIP340 `lift_x` succeeds), so a key nobody can sign for is refused at the boundary.
 * Backends: `@noble/curves` (point lifting), `@scure/base` (bech32).
 *
 * @since 0.1.0
 */
import { schnorr } from "@noble/curves/secp256k1.js"
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js"
import { bech32 } from "@scure/base"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { PublicKeyHex } from "./Primitives.js"
import { InvalidPublicKey } from "./ProtocolError.js"

const hexPattern = /^[0-9a-fA-F]{64}$/

/**
 * True when `hex` (64 lowercase or uppercase hex characters) is the x-coordinate of a secp256k1 point.
 * @category predicates
 */
export const isOnCurve = (hex: string): boolean => {
  if (!hexPattern.test(hex)) return false
  try {
    schnorr.utils.lift_x(BigInt(`0x${hex}`))
    return true
  } catch {
    return false
  }
}

/**
 * A public key as Portal content carries it: 64 lowercase hex characters that name a curve point. Its type is
 * `Primitives.PublicKeyHex`; this schema adds the curve check (and an arbitrary that yields valid keys).
 * @category schemas
 */
export const PublicKey = PublicKeyHex.pipe(
  Schema.filter((hex) => isOnCurve(hex) || "expected the x-coordinate of a secp256k1 point", {
    identifier: "PublicKey",
    arbitrary: () => (fc) =>
      fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map(bytesToHex)
        .filter(isOnCurve)
        .map((hex) => PublicKeyHex.make(hex))
  })
)
/** @category schemas */
export type PublicKey = PublicKeyHex

const invalid = (input: string, detail: string) => new InvalidPublicKey({ input, detail })

const fromHex = (input: string, hex: string): Either.Either<PublicKeyHex, InvalidPublicKey> => {
  const lower = hex.toLowerCase()
  return isOnCurve(lower)
    ? Either.right(PublicKeyHex.make(lower))
    : Either.left(invalid(input, "not the x-coordinate of a secp256k1 point"))
}

const fromNpub = (input: string, npub: string): Either.Either<PublicKeyHex, InvalidPublicKey> => {
  const decoded = bech32.decodeUnsafe(npub)
  if (!decoded) return Either.left(invalid(input, "not valid bech32 (bad characters or checksum)"))
  if (decoded.prefix !== "npub")
    return Either.left(invalid(input, `expected an npub, got the prefix ${decoded.prefix}`))
  const bytes = bech32.fromWordsUnsafe(decoded.words)
  if (!bytes || bytes.length !== 32) return Either.left(invalid(input, "an npub must hold exactly 32 bytes"))
  return fromHex(input, bytesToHex(bytes))
}

/**
 * Parses a public key given as 64 hex characters (any case), `npub1…` or `nostr:npub1…`; returns lowercase hex.
 * The input is not trimmed. Synchronous form of `parse`.
 * @category parsing
 */
export const parseEither = (input: string): Either.Either<PublicKeyHex, InvalidPublicKey> => {
  if (hexPattern.test(input)) return fromHex(input, input)
  const bare = input.startsWith("nostr:") ? input.slice("nostr:".length) : input
  if (bare.toLowerCase().startsWith("npub1")) return fromNpub(input, bare)
  return Either.left(invalid(input, "expected 64 hex characters, npub1… or nostr:npub1…"))
}

/**
 * Parses a public key given as 64 hex characters (any case), `npub1…` or `nostr:npub1…`; returns lowercase hex.
 * @category parsing
 */
export const parse = (input: string): Effect.Effect<PublicKeyHex, InvalidPublicKey> => parseEither(input)

/**
 * Encodes a public key as a NIP-19 `npub1…` string.
 * @category encoding
 */
export const toNpub = (key: PublicKeyHex): `npub1${string}` => {
  return bech32.encode("npub", bech32.toWords(hexToBytes(key)))
}

/**
 * A public key from lenient input (hex in any case, `npub1…`, `nostr:npub1…`), decoded to lowercase hex and always
 * encoded as lowercase hex: the form of every key inside Portal content.
 * @category schemas
 */
export const PublicKeyFromInput = Schema.transformOrFail(Schema.String, PublicKey, {
  strict: true,
  decode: (input, _options, ast) =>
    Either.mapLeft(parseEither(input), (error) => new ParseResult.Type(ast, input, error.detail)),
  encode: ParseResult.succeed
}).annotations({ identifier: "PublicKeyFromInput" })
