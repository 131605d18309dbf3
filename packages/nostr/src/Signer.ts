/**
 * The `Signer` service: who we are on Nostr. It signs event templates and encrypts/decrypts for peers, without
 * handing out the secret key, so a remote signer (NIP-46 "bunker") can implement the same interface later.
 *
 * Backends: a local key (`layerLocal`, `layerLocalConfig`, `layerLocalKeys`, `layerMnemonic`). The local signer
 * keeps NIP-44 conversation keys in a bounded cache (see `Nip44.makeKeyCache`).
 *
 * @since 0.1.0
 */
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Event from "./Event.js"
import * as Keys from "./Keys.js"
import * as Nip04 from "./Nip04.js"
import * as Nip44 from "./Nip44.js"
import type { EncryptionError, InvalidSecretKey, SignerError } from "./NostrError.js"

/**
 * Signs and encrypts as one Nostr identity.
 * @category models
 */
export interface Service {
  /** Our public key (x-only hex). */
  readonly publicKey: PublicKeyHex
  /** Signs a template as `publicKey`. */
  readonly sign: (template: Event.EventTemplate) => Effect.Effect<Event.NostrEvent, SignerError>
  /** NIP-44 v2 encryption to `peer`. */
  readonly nip44Encrypt: (peer: PublicKeyHex, plaintext: string) => Effect.Effect<string, SignerError | EncryptionError>
  /** NIP-44 v2 decryption of a payload exchanged with `peer`. */
  readonly nip44Decrypt: (peer: PublicKeyHex, payload: string) => Effect.Effect<string, SignerError | EncryptionError>
  /** NIP-04 decryption, for legacy peers. */
  readonly nip04Decrypt: (peer: PublicKeyHex, payload: string) => Effect.Effect<string, SignerError | EncryptionError>
}

/**
 * The signer of this process.
 * @category tags
 */
export class Signer extends Context.Tag("@portal/nostr/Signer")<Signer, Service>() {}

/**
 * Options of the local signer.
 * @category models
 */
export interface LocalOptions {
  /** 64 hex characters or `nsec1…`. */
  readonly secretKey: Redacted.Redacted<string>
  /** Conversation keys kept (default 1024 peers). */
  readonly cacheCapacity?: number
  /** How long a conversation key is kept (default 1 hour). */
  readonly cacheTimeToLive?: Duration.DurationInput
}

/**
 * A signer over a local key pair.
 * @category constructors
 */
export const makeLocal = (
  keys: Keys.KeyPair,
  options: Pick<LocalOptions, "cacheCapacity" | "cacheTimeToLive"> = {}
): Effect.Effect<Service> =>
  Effect.map(
    Nip44.makeKeyCache(keys.secretKey, {
      ...(options.cacheCapacity === undefined ? {} : { capacity: options.cacheCapacity }),
      ...(options.cacheTimeToLive === undefined ? {} : { timeToLive: options.cacheTimeToLive })
    }),
    (cache) =>
      Signer.of({
        publicKey: keys.publicKey,
        sign: (template) => Event.signWith(keys, template),
        nip44Encrypt: cache.encrypt,
        nip44Decrypt: cache.decrypt,
        nip04Decrypt: (peer, payload) => Nip04.decrypt(keys.secretKey, peer, payload)
      })
  )

/**
 * A local signer from a secret key (hex or nsec).
 * @category layers
 */
export const layerLocal = (options: LocalOptions): Layer.Layer<Signer, InvalidSecretKey> =>
  Layer.effect(
    Signer,
    Effect.flatMap(Keys.fromSecret(options.secretKey), (keys) => makeLocal(keys, options))
  )

/**
 * `layerLocal` with options read from `Config` (keep the secret `Config.redacted`).
 * @category layers
 */
export const layerLocalConfig = (
  options: Config.Config.Wrap<LocalOptions>
): Layer.Layer<Signer, InvalidSecretKey | ConfigError.ConfigError> =>
  Layer.effect(
    Signer,
    Effect.flatMap(Config.unwrap(options), (resolved) =>
      Effect.flatMap(Keys.fromSecret(resolved.secretKey), (keys) => makeLocal(keys, resolved))
    )
  )

/**
 * A local signer from a key pair already parsed.
 * @category layers
 */
export const layerLocalKeys = (keys: Keys.KeyPair): Layer.Layer<Signer> => Layer.effect(Signer, makeLocal(keys))

/**
 * A local signer from a NIP-06 mnemonic (path `m/44'/1237'/<account>'/0/0`).
 * @category layers
 */
export const layerMnemonic = (options: {
  readonly mnemonic: Redacted.Redacted<string>
  readonly passphrase?: Redacted.Redacted<string>
  readonly account?: number
}): Layer.Layer<Signer, InvalidSecretKey> =>
  Layer.effect(
    Signer,
    Effect.flatMap(
      Keys.fromMnemonic(options.mnemonic, {
        ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
        ...(options.account === undefined ? {} : { account: options.account })
      }),
      (keys) => makeLocal(keys)
    )
  )

/**
 * Stamps a template with the current time and signs it.
 * @category helpers
 */
export const signNow = (
  signer: Service,
  fields: { readonly kind: number; readonly content?: string; readonly tags?: ReadonlyArray<ReadonlyArray<string>> }
): Effect.Effect<Event.NostrEvent, SignerError> => Effect.flatMap(Event.template(fields), signer.sign)
