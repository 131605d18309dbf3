/**
 * The only file importing `@noble/curves` and `@noble/hashes`: ES256K (ECDSA over secp256k1 with SHA-256,
 * RFC 6979, compact r‖s) with the Portal key convention, and sha256. Plain synchronous functions; signing throws
 * on a bad secret, verification answers false on any malformed input.
 *
 * @internal
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js"

const Fn = secp256k1.Point.Fn

/** Whether 32 bytes are a valid secret scalar in [1, n-1]. */
export const isValidSecretKey = (secret: Uint8Array): boolean =>
  secret.length === 32 && secp256k1.utils.isValidSecretKey(secret)

/**
 * The secret, negated when its public point has odd Y, so that its public key is `lift_x_even` of the Nostr
 * (x-only) key. Throws on an invalid secret.
 */
export const evenYSecret = (secret: Uint8Array): Uint8Array => {
  const compressed = secp256k1.getPublicKey(secret, true)
  return compressed[0] === 0x03 ? Fn.toBytes(Fn.neg(Fn.fromBytes(secret))) : Uint8Array.from(secret)
}

// The even-Y secret of the last few keys: deriving it costs a point multiplication, as much as the signature.
const evenYSecrets = new Map<string, Uint8Array>()
const evenYSecretCached = (secret: Uint8Array): Uint8Array => {
  const key = bytesToHex(secret)
  let even = evenYSecrets.get(key)
  if (even === undefined) {
    even = evenYSecret(secret)
    if (evenYSecrets.size >= 16) evenYSecrets.delete(evenYSecrets.keys().next().value!)
    evenYSecrets.set(key, even)
  }
  return even
}

/** 64-byte compact r‖s, low-S, deterministic (RFC 6979) over sha256(message), with the even-Y secret. */
export const sign = (message: Uint8Array, secret: Uint8Array): Uint8Array =>
  secp256k1.sign(message, evenYSecretCached(secret), { prehash: true, lowS: true, format: "compact" })

/** Verifies a compact signature over sha256(message) against `lift_x_even(xOnlyHex)`; high-S accepted. */
export const verify = (signature: Uint8Array, message: Uint8Array, xOnlyHex: string): boolean => {
  try {
    return secp256k1.verify(signature, message, hexToBytes(`02${xOnlyHex}`), {
      prehash: true,
      lowS: false,
      format: "compact"
    })
  } catch {
    return false
  }
}

/** sha256 as lowercase hex. */
export const sha256Hex = (bytes: Uint8Array): string => bytesToHex(sha256(bytes))
