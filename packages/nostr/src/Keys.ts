/**
 * Nostr key pairs (BIP-340 x-only keys on secp256k1): from 64-hex or `nsec1…` (NIP-19), from a BIP-39 mnemonic
 * (NIP-06, `m/44'/1237'/<account>'/0/0`), or fresh; public keys as hex or `npub1…`.
 *
 * The secret stays `Redacted` from parsing to the signer; errors never carry the input. Public keys use the
 * branded `PublicKeyHex` of `@portal/protocol`.
 *
 * @since 0.1.0
 */
import { InvalidPublicKey } from "@portal/protocol/ProtocolError"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Bech32 from "./internal/nostrTools.js"
import * as Secp from "./internal/secp256k1.js"
import { InvalidSecretKey } from "./NostrError.js"

/**
 * A secret key with its x-only public key. `secretKey` holds 32 bytes; use `Keys.nsec`/`Keys.secretHex` to export
 * it, still redacted.
 * @category models
 */
export interface KeyPair {
  readonly secretKey: Redacted.Redacted<Uint8Array>
  readonly publicKey: PublicKeyHex
}

const HEX64 = /^[0-9a-fA-F]{64}$/
const decodePublicKeyHex = Schema.decodeSync(PublicKeyHex)

/**
 * A key pair from 32 secret bytes.
 * @category constructors
 */
export const fromBytes = (secret: Uint8Array): Effect.Effect<KeyPair, InvalidSecretKey> =>
  Secp.isValidSecretKey(secret)
    ? Effect.succeed({
        secretKey: Redacted.make(Uint8Array.from(secret)),
        publicKey: decodePublicKeyHex(Secp.publicKeyHex(secret))
      })
    : Effect.fail(new InvalidSecretKey({ reason: "Range", detail: "expected 32 bytes in [1, n-1]" }))

/**
 * A key pair from 64 hex characters or an `nsec1…` string (surrounding whitespace ignored).
 * @category constructors
 */
export const fromSecret = (input: string | Redacted.Redacted<string>): Effect.Effect<KeyPair, InvalidSecretKey> =>
  Effect.suspend(() => {
    const text = (Redacted.isRedacted(input) ? Redacted.value(input) : input).trim()
    if (HEX64.test(text)) return fromBytes(Secp.hexToBytes(text.toLowerCase()))
    if (text.startsWith("nsec1")) {
      return Effect.try({
        try: () => Bech32.decodeBech32(text),
        catch: () => new InvalidSecretKey({ reason: "Format", detail: "nsec: bad bech32 encoding or checksum" })
      }).pipe(
        Effect.flatMap((decoded) =>
          decoded.type === "nsec"
            ? fromBytes(decoded.data)
            : Effect.fail(new InvalidSecretKey({ reason: "Format", detail: "nsec: not an nsec payload" }))
        )
      )
    }
    return Effect.fail(
      new InvalidSecretKey({ reason: "Format", detail: "expected 64 hex characters or an nsec1… string" })
    )
  })

/**
 * NIP-06: derives the key at `m/44'/1237'/<account>'/0/0` from a BIP-39 English mnemonic (default passphrase "",
 * account 0), the path the Portal app uses.
 * @category constructors
 */
export const fromMnemonic = (
  mnemonic: string | Redacted.Redacted<string>,
  options: { readonly passphrase?: string | Redacted.Redacted<string>; readonly account?: number } = {}
): Effect.Effect<KeyPair, InvalidSecretKey> =>
  Effect.try({
    try: () => {
      const words = Redacted.isRedacted(mnemonic) ? Redacted.value(mnemonic) : mnemonic
      const passphrase =
        options.passphrase === undefined
          ? ""
          : Redacted.isRedacted(options.passphrase)
            ? Redacted.value(options.passphrase)
            : options.passphrase
      const account = options.account ?? 0
      if (!Number.isInteger(account) || account < 0 || account >= 2 ** 31) throw new Error("account out of range")
      return Secp.deriveNip06(words, passphrase, account)
    },
    catch: () =>
      new InvalidSecretKey({ reason: "Mnemonic", detail: "expected a valid BIP-39 English mnemonic (12–24 words)" })
  }).pipe(Effect.flatMap(fromBytes))

/**
 * A fresh random key pair (CSPRNG).
 * @category constructors
 */
export const generate: Effect.Effect<KeyPair> = Effect.sync(() => Secp.randomSecretKey()).pipe(
  Effect.flatMap(fromBytes),
  Effect.orDie
)

/**
 * The secret as `nsec1…`, still redacted.
 * @category encoding
 */
export const nsec = (keys: KeyPair): Redacted.Redacted<string> =>
  Redacted.make(Bech32.nsecEncode(Redacted.value(keys.secretKey)))

/**
 * The secret as 64 lowercase hex characters, still redacted.
 * @category encoding
 */
export const secretHex = (keys: KeyPair): Redacted.Redacted<string> =>
  Redacted.make(Secp.bytesToHex(Redacted.value(keys.secretKey)))

/**
 * A public key as `npub1…`.
 * @category encoding
 */
export const npub = (publicKey: PublicKeyHex): string => Bech32.npubEncode(publicKey)

/**
 * Parses a public key given as 64 hex characters (any case), `npub1…` or `nostr:npub1…`, and checks that it is the
 * x coordinate of a curve point.
 * @category parsing
 */
export const parsePublicKey = (input: string): Effect.Effect<PublicKeyHex, InvalidPublicKey> =>
  Effect.suspend(() => {
    const result = publicKeyHexOf(input)
    return Either.isRight(result)
      ? Effect.succeed(decodePublicKeyHex(result.right))
      : Effect.fail(
          new InvalidPublicKey({
            // an nsec pasted where a public key belongs is a secret: never echo it
            input: /^(nostr:)?nsec1/.test(input.trim()) ? "nsec1… (withheld)" : input,
            detail: result.left
          })
        )
  })

/**
 * Synchronous form of `parsePublicKey`: `Right(hex)` or `Left(reason)`.
 * @category parsing
 */
export const publicKeyHexOf = (input: string): Either.Either<string, string> => {
  const text = input.trim()
  const bare = text.startsWith("nostr:") ? text.slice("nostr:".length) : text
  const hex = HEX64.test(bare)
    ? Either.right(bare.toLowerCase())
    : bare.startsWith("npub1")
      ? Either.try({ try: () => Bech32.decodeBech32(bare), catch: () => "npub: bad bech32 encoding or checksum" }).pipe(
          Either.flatMap((decoded) =>
            decoded.type === "npub" ? Either.right(decoded.data) : Either.left("npub: not an npub payload")
          )
        )
      : Either.left("expected 64 hex characters, npub1… or nostr:npub1…")
  return Either.flatMap(hex, (x) =>
    Secp.isOnCurve(x) ? Either.right(x) : Either.left("not the x coordinate of a secp256k1 point")
  )
}
