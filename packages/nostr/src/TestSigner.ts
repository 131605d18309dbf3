/**
 * Fake signers for other packages' tests (deep import `@portal/nostr/TestSigner`; not in the index).
 *
 * `layer()` is a real local signer over a fresh random key (or the given one): tests exercise real signatures and
 * real NIP-44. `layerRefusing` is a signer whose every call fails as a remote signer that said no, to test how
 * callers handle a NIP-46 bunker refusing.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Keys from "./Keys.js"
import { SignerError } from "./NostrError.js"
import * as Signer from "./Signer.js"

/**
 * A local signer over `secretKey` (hex or nsec), or over a fresh random key.
 * @category layers
 */
export const layer = (options: { readonly secretKey?: string } = {}): Layer.Layer<Signer.Signer> =>
  Layer.effect(
    Signer.Signer,
    Effect.flatMap(
      options.secretKey === undefined ? Keys.generate : Effect.orDie(Keys.fromSecret(Redacted.make(options.secretKey))),
      (keys) => Signer.makeLocal(keys)
    )
  )

/**
 * A signer with a fresh public key that refuses every operation (`SignerError`, reason `Rejected`).
 * @category layers
 */
export const layerRefusing: Layer.Layer<Signer.Signer> = Layer.effect(
  Signer.Signer,
  Effect.map(Keys.generate, (keys) => {
    const refuse = Effect.fail(new SignerError({ reason: "Rejected", detail: "test signer refuses" }))
    return Signer.Signer.of({
      publicKey: keys.publicKey,
      sign: () => refuse,
      nip44Encrypt: () => refuse,
      nip44Decrypt: () => refuse,
      nip04Decrypt: () => refuse
    })
  })
)
