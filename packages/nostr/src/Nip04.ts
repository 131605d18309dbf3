/**
 * NIP-04 (legacy AES-256-CBC direct messages, no MAC). Portal never sends it; peers such as NWC wallets may still
 * answer with it, so decryption is here. Encryption exists for tests and remote-signer parity. Each call costs an
 * ECDH.
 *
 * @since 0.1.0
 */
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Tools from "./internal/nostrTools.js"
import { EncryptionError } from "./NostrError.js"

const detail = (cause: unknown): string => (cause instanceof Error ? cause.message : "failed")

/**
 * Decrypts a NIP-04 payload (`<base64>?iv=<base64>`) sent by `peer` to us, or by us to `peer`.
 * @category encryption
 */
export const decrypt = (
  secretKey: Redacted.Redacted<Uint8Array>,
  peer: PublicKeyHex | string,
  payload: string
): Effect.Effect<string, EncryptionError> =>
  Effect.try({
    try: () => Tools.nip04Decrypt(Redacted.value(secretKey), peer, payload),
    catch: (cause) => new EncryptionError({ scheme: "nip04", operation: "decrypt", detail: detail(cause) })
  })

/**
 * Encrypts for `peer` with NIP-04. Prefer NIP-44 for anything new.
 * @category encryption
 */
export const encrypt = (
  secretKey: Redacted.Redacted<Uint8Array>,
  peer: PublicKeyHex | string,
  plaintext: string
): Effect.Effect<string, EncryptionError> =>
  Effect.try({
    try: () => Tools.nip04Encrypt(Redacted.value(secretKey), peer, plaintext),
    catch: (cause) => new EncryptionError({ scheme: "nip04", operation: "encrypt", detail: detail(cause) })
  })
