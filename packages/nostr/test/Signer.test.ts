import { assert, describe, it } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Nip04 from "@portal/nostr/Nip04"
import { EncryptionError, InvalidSecretKey } from "@portal/nostr/NostrError"
import * as Signer from "@portal/nostr/Signer"
import * as TestSigner from "@portal/nostr/TestSigner"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const localSigner = (keys: Keys.KeyPair) =>
  Effect.provide(Signer.Signer, Signer.layerLocal({ secretKey: Keys.nsec(keys) }))

describe("Signer (local)", () => {
  it.effect("signs templates as its own key; the events verify", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const signer = yield* localSigner(keys)
      assert.strictEqual(signer.publicKey, keys.publicKey)
      const event = yield* Signer.signNow(signer, { kind: 27000, content: "c", tags: [["p", keys.publicKey]] })
      assert.strictEqual(event.pubkey, keys.publicKey)
      assert.strictEqual(event.created_at, 0)
      assert.isTrue(Event.verifyPure(event))
    })
  )

  it.effect("NIP-44 between two signers, both directions", () =>
    Effect.gen(function* () {
      const alice = yield* localSigner(yield* Keys.generate)
      const bob = yield* localSigner(yield* Keys.generate)
      const payload = yield* alice.nip44Encrypt(bob.publicKey, '{"challenge":"abc"}')
      assert.strictEqual(yield* bob.nip44Decrypt(alice.publicKey, payload), '{"challenge":"abc"}')
      const reply = yield* bob.nip44Encrypt(alice.publicKey, "ok")
      assert.strictEqual(yield* alice.nip44Decrypt(bob.publicKey, reply), "ok")
      const error = yield* Effect.flip(alice.nip44Decrypt(bob.publicKey, payload.slice(0, -4) + "AAAA"))
      assert.instanceOf(error, EncryptionError)
    })
  )

  it.effect("NIP-04 decryption of a legacy peer's message", () =>
    Effect.gen(function* () {
      const legacy = yield* Keys.generate
      const me = yield* Keys.generate
      const signer = yield* localSigner(me)
      const payload = yield* Nip04.encrypt(legacy.secretKey, me.publicKey, "legacy hello")
      assert.match(payload, /\?iv=/)
      assert.strictEqual(yield* signer.nip04Decrypt(legacy.publicKey, payload), "legacy hello")
      const error = yield* Effect.flip(signer.nip04Decrypt(legacy.publicKey, "garbage"))
      assert.instanceOf(error, EncryptionError)
    })
  )

  it.effect("a mnemonic signer has the NIP-06 key", () =>
    Effect.gen(function* () {
      const mnemonic = Redacted.make("leader monkey parrot ring guide accident before fence cannon height naive bean")
      const keys = yield* Keys.fromMnemonic(mnemonic)
      const signer = yield* Effect.provide(Signer.Signer, Signer.layerMnemonic({ mnemonic }))
      assert.strictEqual(signer.publicKey, keys.publicKey)
    })
  )

  it.effect("a bad secret fails the layer without showing the secret", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(Signer.layerLocal({ secretKey: Redacted.make("nsec1notreallyasecretbutcheckanyway") }))
      ).pipe(Effect.scoped)
      assert.instanceOf(error, InvalidSecretKey)
      assert.notInclude(error.message, "notreally")
    })
  )

  it.effect("TestSigner: a real signer over a given key; a refusing one fails every call", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const given = yield* Effect.provide(
        Signer.Signer,
        TestSigner.layer({ secretKey: Redacted.value(Keys.secretHex(keys)) })
      )
      assert.strictEqual(given.publicKey, keys.publicKey)
      assert.isTrue(Event.verifyPure(yield* Signer.signNow(given, { kind: 1 })))
      const refusing = yield* Effect.provide(Signer.Signer, TestSigner.layerRefusing)
      const error = yield* Effect.flip(Signer.signNow(refusing, { kind: 1 }))
      assert.strictEqual(error.reason, "Rejected")
    })
  )
})
