import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Nip19 from "@portal/nostr/Nip19"
import { InvalidSecretKey } from "@portal/nostr/NostrError"
import { InvalidPublicKey } from "@portal/protocol/ProtocolError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { readVectors, toHex } from "./vectors.js"

const KeyVector = Schema.Struct({
  name: Schema.String,
  mnemonic: Schema.optional(Schema.String),
  passphrase: Schema.optional(Schema.String),
  nsec: Schema.optional(Schema.String),
  secret_hex: Schema.optional(Schema.String),
  pubkey_hex: Schema.optional(Schema.String),
  npub: Schema.optional(Schema.String),
  input: Schema.optional(Schema.String),
  valid: Schema.optional(Schema.Boolean)
})
const vectors = Schema.decodeUnknownSync(Schema.Struct({ vectors: Schema.Array(KeyVector) }))(
  readVectors("keys.json")
).vectors

describe("Keys", () => {
  const withSecret = vectors.filter((v) => v.secret_hex !== undefined)
  const withMnemonic = vectors.filter((v) => v.mnemonic !== undefined)
  const publicOnly = vectors.filter((v) => v.secret_hex === undefined && v.pubkey_hex !== undefined)
  const invalid = vectors.filter((v) => v.valid === false)

  it("has vectors of every kind", () => {
    assert.isAbove(withSecret.length, 3)
    assert.isAbove(withMnemonic.length, 2)
    assert.isAbove(publicOnly.length, 1)
    assert.isAbove(invalid.length, 2)
  })

  for (const v of withSecret) {
    it.effect(`secret from hex and nsec: ${v.name}`, () =>
      Effect.gen(function* () {
        const fromHex = yield* Keys.fromSecret(v.secret_hex!)
        const fromNsec = yield* Keys.fromSecret(Redacted.make(v.nsec!))
        assert.strictEqual(fromHex.publicKey, v.pubkey_hex)
        assert.strictEqual(fromNsec.publicKey, v.pubkey_hex)
        assert.strictEqual(Redacted.value(Keys.nsec(fromHex)), v.nsec)
        assert.strictEqual(Redacted.value(Keys.secretHex(fromNsec)), v.secret_hex)
        assert.strictEqual(Keys.npub(fromHex.publicKey), v.npub)
        // upper-case hex is accepted too
        const upper = yield* Keys.fromSecret(v.secret_hex!.toUpperCase())
        assert.strictEqual(upper.publicKey, v.pubkey_hex)
      })
    )
  }

  for (const v of withMnemonic) {
    it.effect(`NIP-06 mnemonic: ${v.name}`, () =>
      Effect.gen(function* () {
        const keys = yield* Keys.fromMnemonic(Redacted.make(v.mnemonic!), { passphrase: v.passphrase ?? "" })
        assert.strictEqual(toHex(Redacted.value(keys.secretKey)), v.secret_hex)
        assert.strictEqual(keys.publicKey, v.pubkey_hex)
      })
    )
  }

  it.effect("another NIP-06 account gives another key", () =>
    Effect.gen(function* () {
      const v = withMnemonic[0]!
      const other = yield* Keys.fromMnemonic(v.mnemonic!, { account: 1 })
      assert.notStrictEqual(other.publicKey, v.pubkey_hex)
    })
  )

  for (const v of publicOnly.concat(withSecret)) {
    it.effect(`public key from hex, npub and nostr:npub: ${v.name}`, () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* Keys.parsePublicKey(v.pubkey_hex!), v.pubkey_hex)
        assert.strictEqual(yield* Keys.parsePublicKey(v.npub!), v.pubkey_hex)
        assert.strictEqual(yield* Keys.parsePublicKey(`nostr:${v.npub!}`), v.pubkey_hex)
        assert.strictEqual(Nip19.npubEncode(yield* Keys.parsePublicKey(v.npub!)), v.npub)
      })
    )
  }

  for (const v of invalid) {
    it.effect(`refuses an invalid public key: ${v.name}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Keys.parsePublicKey(v.input!))
        assert.instanceOf(error, InvalidPublicKey)
      })
    )
  }

  it.effect("never puts a secret in an error message", () =>
    Effect.gen(function* () {
      const v = withSecret[0]!
      // an nsec where a public key belongs
      const asPublic = yield* Effect.flip(Keys.parsePublicKey(v.nsec!))
      assert.notInclude(asPublic.message, v.nsec!)
      assert.notInclude(JSON.stringify(asPublic), v.nsec!)
      // a corrupted nsec / hex as a secret
      const corruptNsec = v.nsec!.slice(0, -1) + (v.nsec!.endsWith("q") ? "p" : "q")
      const e1 = yield* Effect.flip(Keys.fromSecret(corruptNsec))
      assert.instanceOf(e1, InvalidSecretKey)
      assert.notInclude(e1.message, corruptNsec)
      const e2 = yield* Effect.flip(Keys.fromSecret(v.secret_hex!.slice(2)))
      assert.notInclude(e2.message, v.secret_hex!.slice(2))
      const e3 = yield* Effect.flip(Keys.fromMnemonic("leader monkey parrot ring guide accident before fence"))
      assert.strictEqual(e3.reason, "Mnemonic")
      assert.notInclude(e3.message, "monkey")
      // the key pair itself prints redacted
      const keys = yield* Keys.fromSecret(v.secret_hex!)
      assert.notInclude(String(keys.secretKey), v.secret_hex!)
      assert.notInclude(JSON.stringify(keys), v.secret_hex!)
    })
  )

  it.effect("refuses a zero secret and one above the curve order", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* Effect.flip(Keys.fromSecret("0".repeat(64)))).reason, "Range")
      assert.strictEqual((yield* Effect.flip(Keys.fromSecret("f".repeat(64)))).reason, "Range")
    })
  )

  it.effect("generates distinct valid key pairs", () =>
    Effect.gen(function* () {
      const a = yield* Keys.generate
      const b = yield* Keys.generate
      assert.notStrictEqual(a.publicKey, b.publicKey)
      const again = yield* Keys.fromSecret(Keys.secretHex(a))
      assert.strictEqual(again.publicKey, a.publicKey)
    })
  )
})
