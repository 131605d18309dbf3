/**
 * The only file importing `@noble/curves`, `@noble/hashes` and `@scure/bip32`/`@scure/bip39`: BIP-340 keys and
 * signatures, ECDH for NIP-44/NIP-04, sha256, NIP-06 derivation. Plain synchronous functions that throw; the public
 * modules wrap every call in `Effect.try` or use the boolean forms.
 *
 * ECDH goes through Node's OpenSSL (`crypto.createECDH("secp256k1")`, about 3× faster than `@noble/curves`, one
 * prepared object per secret key) when the runtime has the curve, `@noble/curves` otherwise; both give the same x.
 *
 * @internal
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js"
import { createECDH, type ECDH, getCurves } from "node:crypto"
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js"
import { HDKey } from "@scure/bip32"
import { mnemonicToSeedSync, validateMnemonic } from "@scure/bip39"
import { wordlist } from "@scure/bip39/wordlists/english.js"

export { bytesToHex, hexToBytes, randomBytes, utf8ToBytes }

const HEX64 = /^[0-9a-f]{64}$/

export const sha256 = (bytes: Uint8Array): Uint8Array => nobleSha256(bytes)

export const sha256Hex = (text: string): string => bytesToHex(nobleSha256(utf8ToBytes(text)))

export const isValidSecretKey = (secret: Uint8Array): boolean =>
  secret.length === 32 && secp256k1.utils.isValidSecretKey(secret)

export const randomSecretKey = (): Uint8Array => schnorr.utils.randomSecretKey()

/** x-only public key (hex) of a valid secret key. */
export const publicKeyHex = (secret: Uint8Array): string => bytesToHex(schnorr.getPublicKey(secret))

/** Whether a 64-hex x coordinate lifts to a curve point (BIP-340 `lift_x`). */
export const isOnCurve = (xHex: string): boolean => {
  if (!HEX64.test(xHex)) return false
  try {
    schnorr.utils.lift_x(BigInt(`0x${xHex}`))
    return true
  } catch {
    return false
  }
}

/** BIP-340 signature (hex) over a 32-byte hash, with fresh auxiliary randomness. */
export const signSchnorr = (hash: Uint8Array, secret: Uint8Array): string =>
  bytesToHex(schnorr.sign(hash, secret, randomBytes(32)))

/** BIP-340 verification over hex inputs; false on any malformed input. */
export const verifySchnorr = (sigHex: string, hashHex: string, pubkeyHex: string): boolean => {
  try {
    return schnorr.verify(hexToBytes(sigHex), hexToBytes(hashHex), hexToBytes(pubkeyHex))
  } catch {
    return false
  }
}

const openSslHasCurve = getCurves().includes("secp256k1")
/** Prepared OpenSSL ECDH objects, by secret key (the same `Uint8Array` for a signer's lifetime). */
const prepared = new WeakMap<Uint8Array, ECDH>()

/** The x coordinate of secret·lift_x_even(pub): the ECDH input of NIP-44 and NIP-04. Throws on bad keys. */
export const sharedX = (secret: Uint8Array, pubkeyHex: string): Uint8Array => {
  // Buffer.from(…, "hex") stops silently at the first non-hex character: check first
  if (!/^[0-9a-fA-F]{64}$/.test(pubkeyHex)) throw new Error("expected a 64-hex x-only public key")
  if (!openSslHasCurve) return secp256k1.getSharedSecret(secret, hexToBytes(`02${pubkeyHex}`)).subarray(1, 33)
  let ecdh = prepared.get(secret)
  if (ecdh === undefined) {
    if (!isValidSecretKey(secret)) throw new Error("invalid secret key")
    ecdh = createECDH("secp256k1")
    ecdh.setPrivateKey(secret)
    prepared.set(secret, ecdh)
  }
  return new Uint8Array(ecdh.computeSecret(Buffer.from(`02${pubkeyHex}`, "hex")))
}

/** NIP-06: BIP-39 seed → BIP-32 path `m/44'/1237'/<account>'/0/0`. Throws on an invalid mnemonic. */
export const deriveNip06 = (mnemonic: string, passphrase: string, account: number): Uint8Array => {
  const normalized = mnemonic.trim().split(/\s+/).join(" ")
  if (!validateMnemonic(normalized, wordlist)) throw new Error("not a valid BIP-39 English mnemonic")
  const key = HDKey.fromMasterSeed(mnemonicToSeedSync(normalized, passphrase)).derive(`m/44'/1237'/${account}'/0/0`)
  if (key.privateKey === null) throw new Error("derivation gave no private key")
  return key.privateKey
}
