/**
 * NIP-44 v2 over `@noble/ciphers` and `@noble/hashes` (the only file importing them): conversation key, message
 * keys, padding, ChaCha20 + HMAC-SHA256, payload framing. Synchronous and throwing; `Nip44.ts` wraps the calls.
 * Written against the NIP text and checked with the official vectors (encryption, decryption, padding, message
 * keys and every invalid case).
 *
 * @internal
 */
import { chacha20 } from "@noble/ciphers/chacha.js"
import { equalBytes } from "@noble/ciphers/utils.js"
import { expand, extract } from "@noble/hashes/hkdf.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { concatBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js"
import { base64 } from "@scure/base"
import { sharedX } from "./secp256k1.js"

const SALT = utf8ToBytes("nip44-v2")
const MIN_PLAINTEXT = 1
const MAX_PLAINTEXT = 65535
const decoder = new TextDecoder("utf-8", { fatal: true })

export const conversationKey = (secret: Uint8Array, peerHex: string): Uint8Array =>
  extract(sha256, sharedX(secret, peerHex), SALT)

export interface MessageKeys {
  readonly chachaKey: Uint8Array
  readonly chachaNonce: Uint8Array
  readonly hmacKey: Uint8Array
}

export const messageKeys = (key: Uint8Array, nonce: Uint8Array): MessageKeys => {
  if (key.length !== 32) throw new Error(`conversation key: expected 32 bytes, got ${key.length}`)
  if (nonce.length !== 32) throw new Error(`nonce: expected 32 bytes, got ${nonce.length}`)
  const keys = expand(sha256, key, nonce, 76)
  return { chachaKey: keys.subarray(0, 32), chachaNonce: keys.subarray(32, 44), hmacKey: keys.subarray(44, 76) }
}

export const calcPaddedLen = (length: number): number => {
  if (!Number.isSafeInteger(length) || length < 1) throw new Error(`expected a length ≥ 1, got ${length}`)
  if (length <= 32) return 32
  const nextPower = 1 << (Math.floor(Math.log2(length - 1)) + 1)
  const chunk = nextPower <= 256 ? 32 : nextPower / 8
  return chunk * (Math.floor((length - 1) / chunk) + 1)
}

const pad = (plaintext: string): Uint8Array => {
  const unpadded = utf8ToBytes(plaintext)
  const length = unpadded.length
  if (length < MIN_PLAINTEXT || length > MAX_PLAINTEXT) {
    throw new Error(`plaintext: expected 1..65535 bytes, got ${length}`)
  }
  const out = new Uint8Array(2 + calcPaddedLen(length))
  out[0] = length >> 8
  out[1] = length & 0xff
  out.set(unpadded, 2)
  return out
}

const unpad = (padded: Uint8Array): string => {
  const length = ((padded[0] ?? 0) << 8) | (padded[1] ?? 0)
  const unpadded = padded.subarray(2, 2 + length)
  if (
    length < MIN_PLAINTEXT ||
    length > MAX_PLAINTEXT ||
    unpadded.length !== length ||
    padded.length !== 2 + calcPaddedLen(length)
  ) {
    throw new Error("invalid padding")
  }
  return decoder.decode(unpadded)
}

const mac = (key: Uint8Array, message: Uint8Array, aad: Uint8Array): Uint8Array =>
  hmac(sha256, key, concatBytes(aad, message))

export const encrypt = (plaintext: string, key: Uint8Array, nonce: Uint8Array = randomBytes(32)): string => {
  const { chachaKey, chachaNonce, hmacKey } = messageKeys(key, nonce)
  const ciphertext = chacha20(chachaKey, chachaNonce, pad(plaintext))
  return base64.encode(concatBytes(new Uint8Array([2]), nonce, ciphertext, mac(hmacKey, ciphertext, nonce)))
}

export const decrypt = (payload: string, key: Uint8Array): string => {
  const length = payload.length
  if (length === 0 || payload[0] === "#") throw new Error("unknown encryption version")
  if (length < 132 || length > 87472) throw new Error(`invalid payload length ${length}`)
  const data = base64.decode(payload)
  const dataLength = data.length
  if (dataLength < 99 || dataLength > 65603) throw new Error(`invalid data length ${dataLength}`)
  if (data[0] !== 2) throw new Error(`unknown encryption version ${data[0]}`)
  const nonce = data.subarray(1, 33)
  const ciphertext = data.subarray(33, dataLength - 32)
  const tag = data.subarray(dataLength - 32)
  const { chachaKey, chachaNonce, hmacKey } = messageKeys(key, nonce)
  if (!equalBytes(mac(hmacKey, ciphertext, nonce), tag)) throw new Error("invalid MAC")
  return unpad(chacha20(chachaKey, chachaNonce, ciphertext))
}
