/**
 * NIP-44 v2 encryption: conversation key (ECDH + HKDF), ChaCha20 with HMAC-SHA256, padding. Portal encrypts every
 * message except kind 0 with it.
 *
 * A conversation key costs an ECDH (about 3 ms); `makeKeyCache` keeps them per peer in a bounded `Cache` (capacity
 * and time to live). Conversation keys are secret: they stay `Redacted` and are never logged.
 *
 * @since 0.1.0
 */
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Cache from "effect/Cache"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Impl from "./internal/nip44.js"
import { EncryptionError } from "./NostrError.js"

/**
 * The symmetric key two parties share (32 bytes).
 * @category models
 */
export type ConversationKey = Redacted.Redacted<Uint8Array>

const detail = (cause: unknown): string => (cause instanceof Error ? cause.message : "failed")

/**
 * The conversation key between our secret and a peer's public key; symmetric.
 * @category keys
 */
export const conversationKey = (
  secretKey: Redacted.Redacted<Uint8Array>,
  peer: PublicKeyHex | string
): Effect.Effect<ConversationKey, EncryptionError> =>
  Effect.try({
    try: () => Redacted.make(Impl.conversationKey(Redacted.value(secretKey), peer)),
    catch: (cause) =>
      new EncryptionError({ scheme: "nip44", operation: "conversation-key", detail: `peer ${peer}: ${detail(cause)}` })
  })

/**
 * Encrypts 1..65535 bytes of UTF-8 into a NIP-44 v2 base64 payload. `nonce` (32 bytes) is for test vectors only;
 * it is random otherwise.
 * @category encryption
 */
export const encrypt = (
  key: ConversationKey,
  plaintext: string,
  nonce?: Uint8Array
): Effect.Effect<string, EncryptionError> =>
  Effect.try({
    try: () => Impl.encrypt(plaintext, Redacted.value(key), nonce),
    catch: (cause) => new EncryptionError({ scheme: "nip44", operation: "encrypt", detail: detail(cause) })
  })

/**
 * Decrypts a NIP-44 v2 payload; fails on an unknown version, a bad size, a bad MAC or bad padding.
 * @category encryption
 */
export const decrypt = (key: ConversationKey, payload: string): Effect.Effect<string, EncryptionError> =>
  Effect.try({
    try: () => Impl.decrypt(payload, Redacted.value(key)),
    catch: (cause) => new EncryptionError({ scheme: "nip44", operation: "decrypt", detail: detail(cause) })
  })

/**
 * The padded length of a plaintext of `length` bytes (NIP-44 padding scheme).
 * @category internals
 */
export const calcPaddedLen = (length: number): number => Impl.calcPaddedLen(length)

/**
 * The per-message keys derived from a conversation key and a nonce (exposed for the official test vectors).
 * @category internals
 */
export const messageKeys = (
  key: ConversationKey,
  nonce: Uint8Array
): { readonly chachaKey: Uint8Array; readonly chachaNonce: Uint8Array; readonly hmacKey: Uint8Array } =>
  Impl.messageKeys(Redacted.value(key), nonce)

/**
 * Conversation keys of one secret key, per peer, computed once and kept in a bounded cache.
 * @category cache
 */
export interface KeyCache {
  readonly get: (peer: PublicKeyHex | string) => Effect.Effect<ConversationKey, EncryptionError>
  /** Encrypts to `peer` with the cached key. */
  readonly encrypt: (peer: PublicKeyHex | string, plaintext: string) => Effect.Effect<string, EncryptionError>
  /** Decrypts from `peer` with the cached key. */
  readonly decrypt: (peer: PublicKeyHex | string, payload: string) => Effect.Effect<string, EncryptionError>
}

/**
 * Options of `makeKeyCache`: at most `capacity` peers (default 1024), each for `timeToLive` (default 1 hour).
 * @category cache
 */
export interface KeyCacheOptions {
  readonly capacity?: number
  readonly timeToLive?: Duration.DurationInput
}

/**
 * A bounded conversation-key cache for one secret key. A failed lookup (a peer key off the curve) is not kept.
 * @category cache
 */
export const makeKeyCache = (
  secretKey: Redacted.Redacted<Uint8Array>,
  options: KeyCacheOptions = {}
): Effect.Effect<KeyCache> =>
  Effect.map(
    Cache.makeWith({
      capacity: options.capacity ?? 1024,
      lookup: (peer: string) => conversationKey(secretKey, peer),
      timeToLive: (exit) => (Exit.isSuccess(exit) ? (options.timeToLive ?? "1 hour") : 0)
    }),
    (cache): KeyCache => ({
      get: (peer) => cache.get(peer),
      encrypt: (peer, plaintext) => Effect.flatMap(cache.get(peer), (key) => encrypt(key, plaintext)),
      decrypt: (peer, payload) => Effect.flatMap(cache.get(peer), (key) => decrypt(key, payload))
    })
  )
