import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Nip44 from "@portal/nostr/Nip44"
import { EncryptionError } from "@portal/nostr/NostrError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as crypto from "node:crypto"
import { hex, readVectors, toHex } from "./vectors.js"

const Str = Schema.String
const official = Schema.decodeUnknownSync(
  Schema.Struct({
    v2: Schema.Struct({
      valid: Schema.Struct({
        get_conversation_key: Schema.Array(Schema.Struct({ sec1: Str, pub2: Str, conversation_key: Str })),
        get_message_keys: Schema.Struct({
          conversation_key: Str,
          keys: Schema.Array(Schema.Struct({ nonce: Str, chacha_key: Str, chacha_nonce: Str, hmac_key: Str }))
        }),
        calc_padded_len: Schema.Array(Schema.Tuple(Schema.Number, Schema.Number)),
        encrypt_decrypt: Schema.Array(
          Schema.Struct({ sec1: Str, sec2: Str, conversation_key: Str, nonce: Str, plaintext: Str, payload: Str })
        ),
        encrypt_decrypt_long_msg: Schema.Array(
          Schema.Struct({
            conversation_key: Str,
            nonce: Str,
            pattern: Str,
            repeat: Schema.Number,
            plaintext_sha256: Str,
            payload_sha256: Str
          })
        )
      }),
      invalid: Schema.Struct({
        encrypt_msg_lengths: Schema.Array(Schema.Number),
        get_conversation_key: Schema.Array(Schema.Struct({ sec1: Str, pub2: Str, note: Str })),
        decrypt: Schema.Array(
          Schema.Struct({ conversation_key: Str, nonce: Str, plaintext: Str, payload: Str, note: Str })
        )
      })
    })
  })
)(readVectors("nip44.vectors.json")).v2

const portal = Schema.decodeUnknownSync(
  Schema.Struct({
    vectors: Schema.Array(Schema.Struct({ name: Str, sec1: Str, pub2: Str, conversation_key: Str }))
  })
)(readVectors("nip44.json")).vectors

const secret = (h: string) => Redacted.make(hex(h))
const sha256 = (data: string | Uint8Array) => crypto.createHash("sha256").update(data).digest("hex")

describe("Nip44 (official v2 vectors)", () => {
  it.effect("conversation keys", () =>
    Effect.gen(function* () {
      for (const v of official.valid.get_conversation_key) {
        const key = yield* Nip44.conversationKey(secret(v.sec1), v.pub2)
        assert.strictEqual(toHex(Redacted.value(key)), v.conversation_key, v.sec1)
      }
    })
  )

  it("message keys", () => {
    const v = official.valid.get_message_keys
    for (const k of v.keys) {
      const keys = Nip44.messageKeys(secret(v.conversation_key), hex(k.nonce))
      assert.strictEqual(toHex(keys.chachaKey), k.chacha_key)
      assert.strictEqual(toHex(keys.chachaNonce), k.chacha_nonce)
      assert.strictEqual(toHex(keys.hmacKey), k.hmac_key)
    }
  })

  it("padded lengths", () => {
    for (const [length, padded] of official.valid.calc_padded_len) {
      assert.strictEqual(Nip44.calcPaddedLen(length), padded, `length ${length}`)
    }
  })

  it.effect("encrypt and decrypt", () =>
    Effect.gen(function* () {
      assert.isAtLeast(official.valid.encrypt_decrypt.length, 10)
      for (const v of official.valid.encrypt_decrypt) {
        const sender = yield* Keys.fromSecret(v.sec1)
        const recipient = yield* Keys.fromSecret(v.sec2)
        const key = yield* Nip44.conversationKey(sender.secretKey, recipient.publicKey)
        assert.strictEqual(toHex(Redacted.value(key)), v.conversation_key)
        // the conversation key is symmetric
        const back = yield* Nip44.conversationKey(recipient.secretKey, sender.publicKey)
        assert.strictEqual(toHex(Redacted.value(back)), v.conversation_key)
        assert.strictEqual(yield* Nip44.encrypt(key, v.plaintext, hex(v.nonce)), v.payload)
        assert.strictEqual(yield* Nip44.decrypt(back, v.payload), v.plaintext)
      }
    })
  )

  it.effect("long messages", () =>
    Effect.gen(function* () {
      for (const v of official.valid.encrypt_decrypt_long_msg) {
        const plaintext = v.pattern.repeat(v.repeat)
        assert.strictEqual(sha256(plaintext), v.plaintext_sha256)
        const key = secret(v.conversation_key)
        const payload = yield* Nip44.encrypt(key, plaintext, hex(v.nonce))
        assert.strictEqual(sha256(payload), v.payload_sha256)
        assert.strictEqual(yield* Nip44.decrypt(key, payload), plaintext)
      }
    })
  )

  it.effect("refuses plaintexts of invalid length", () =>
    Effect.gen(function* () {
      const key = secret(official.valid.get_message_keys.conversation_key)
      for (const length of official.invalid.encrypt_msg_lengths) {
        const error = yield* Effect.flip(Nip44.encrypt(key, "a".repeat(length)))
        assert.instanceOf(error, EncryptionError)
        assert.strictEqual(error.operation, "encrypt")
      }
    })
  )

  for (const v of official.invalid.get_conversation_key) {
    it.effect(`refuses conversation key: ${v.note}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Nip44.conversationKey(secret(v.sec1), v.pub2))
        assert.strictEqual(error.operation, "conversation-key")
      })
    )
  }

  for (const v of official.invalid.decrypt) {
    it.effect(`refuses to decrypt: ${v.note}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Nip44.decrypt(secret(v.conversation_key), v.payload))
        assert.strictEqual(error.operation, "decrypt")
        assert.notInclude(error.message, v.conversation_key)
      })
    )
  }
})

describe("Nip44 (Portal keys)", () => {
  for (const v of portal) {
    it.effect(v.name, () =>
      Effect.gen(function* () {
        const key = yield* Nip44.conversationKey(secret(v.sec1), v.pub2)
        assert.strictEqual(toHex(Redacted.value(key)), v.conversation_key)
      })
    )
  }

  it.effect("a key cache encrypts to a peer whose cache decrypts, and reuses keys", () =>
    Effect.gen(function* () {
      const alice = yield* Keys.generate
      const bob = yield* Keys.generate
      const aliceCache = yield* Nip44.makeKeyCache(alice.secretKey, { capacity: 2, timeToLive: "1 minute" })
      const bobCache = yield* Nip44.makeKeyCache(bob.secretKey)
      const payload = yield* aliceCache.encrypt(bob.publicKey, "hello bob")
      assert.strictEqual(yield* bobCache.decrypt(alice.publicKey, payload), "hello bob")
      // same peer → the very same cached key object
      const k1 = yield* aliceCache.get(bob.publicKey)
      const k2 = yield* aliceCache.get(bob.publicKey)
      assert.strictEqual(k1, k2)
      // a third party cannot read it
      const eve = yield* Keys.generate
      const eveCache = yield* Nip44.makeKeyCache(eve.secretKey)
      const error = yield* Effect.flip(eveCache.decrypt(alice.publicKey, payload))
      assert.strictEqual(error.detail, "invalid MAC")
      // a bad peer key is an error, not a cached defect
      const bad = yield* Effect.flip(aliceCache.encrypt("5".padStart(64, "0"), "x"))
      assert.strictEqual(bad.operation, "conversation-key")
    })
  )
})
