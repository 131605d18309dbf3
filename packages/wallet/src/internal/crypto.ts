/**
 * Hashes, hex and keys for BOLT11 payments over `@noble/hashes` / `@noble/curves` (the 1.x line that
 * `@atomiqlabs/bolt11` peers on) and `node:crypto` randomness for preimages and node keys.
 *
 * @internal
 */
import { secp256k1 } from "@noble/curves/secp256k1"
import { sha256 } from "@noble/hashes/sha2"
import { bytesToHex, hexToBytes } from "@noble/hashes/utils"
import { randomBytes } from "node:crypto"

/** sha256 of the bytes a hex string encodes, as hex. Throws on odd-length or non-hex input. */
export const sha256Hex = (hex: string): string => bytesToHex(sha256(hexToBytes(hex)))

/** 32 random bytes as hex (preimages, payment secrets, node keys). */
export const random32Hex = (): string => {
  for (;;) {
    const bytes = randomBytes(32)
    if (secp256k1.utils.isValidSecretKey(bytes)) return bytesToHex(bytes)
  }
}

/** The compressed (33-byte) public key of a node secret key, as hex. */
export const nodePublicKey = (secretKeyHex: string): string =>
  bytesToHex(secp256k1.getPublicKey(hexToBytes(secretKeyHex), true))
