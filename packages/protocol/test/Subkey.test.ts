import { assert, describe, it } from "@effect/vitest"
import { schnorr } from "@noble/curves/secp256k1.js"
import { bytesToHex, hexToBytes } from "@noble/curves/utils.js"
import * as Messages from "@portal/protocol/Messages"
import * as Primitives from "@portal/protocol/Primitives"
import { InvalidSubkeyProof, SubkeyDerivationError } from "@portal/protocol/ProtocolError"
import * as PublicKey from "@portal/protocol/PublicKey"
import * as Subkey from "@portal/protocol/Subkey"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { load, metadataFromVector } from "./sharedVectors.js"

const vectors = load("subkey.json")

const hasOddY = (secretHex: string) => schnorr.Point.BASE.multiply(BigInt(`0x${secretHex}`)).y % 2n === 1n

describe("Subkey", () => {
  it("subkey.json covers valid, invalid and odd-Y cases", () => {
    assert.isAbove(vectors.length, 10)
    assert.isTrue(vectors.some((v) => v.valid === false))
    assert.isTrue(vectors.some((v) => v.master_y_odd === true))
  })

  for (const v of vectors) {
    it.effect(`${v.name}: metadata, canonical bytes, tweak and keys`, () =>
      Effect.gen(function* () {
        const metadata = yield* Messages.decodeContent(Subkey.SubkeyMetadata, v.metadata_wire)
        assert.deepStrictEqual(metadata, metadataFromVector(v.metadata))
        assert.strictEqual(yield* Messages.encodeContent(Subkey.SubkeyMetadata, metadata), v.metadata_wire)
        assert.strictEqual(bytesToHex(Subkey.canonicalBytes(metadata)), v.canonical_bytes)
        assert.strictEqual(bytesToHex(Subkey.tweak(metadata)), v.tweak)

        const master = Primitives.PublicKeyHex.make(v.master_pubkey)
        if (v.master_secret !== null) {
          assert.strictEqual(bytesToHex(schnorr.getPublicKey(hexToBytes(v.master_secret))), v.master_pubkey)
          assert.strictEqual(hasOddY(v.master_secret), v.master_y_odd)
          const secret = yield* Subkey.deriveSubkeySecret(hexToBytes(v.master_secret), metadata)
          assert.strictEqual(bytesToHex(secret), v.subkey_secret)
          assert.strictEqual(bytesToHex(schnorr.getPublicKey(secret)), v.subkey_pubkey)
        }

        const proof: Subkey.SubkeyProof = { mainKey: master, metadata }
        const subkey = Primitives.PublicKeyHex.make(v.subkey_pubkey)
        if (v.valid) {
          assert.strictEqual(yield* Subkey.deriveSubkeyPublic(master, metadata), v.subkey_pubkey)
          yield* Subkey.verifyProof(proof, subkey)
        } else {
          assert.notStrictEqual(yield* Subkey.deriveSubkeyPublic(master, metadata), v.subkey_pubkey)
          const error = yield* Effect.flip(Subkey.verifyProof(proof, subkey))
          assert.instanceOf(error, InvalidSubkeyProof)
          assert.strictEqual(error.reason, "Derivation")
        }
      })
    )
  }

  const windowed = vectors.find((v) => v.name === 'k1 "test subkey" auth+payment')!

  it.effect("verifyProof with `now` enforces [valid_from − 60 s, expires_at + 60 s]", () =>
    Effect.gen(function* () {
      const metadata = metadataFromVector(windowed.metadata)
      const proof = { mainKey: Primitives.PublicKeyHex.make(windowed.master_pubkey), metadata }
      const subkey = Primitives.PublicKeyHex.make(windowed.subkey_pubkey)
      const validFrom = Number(metadata.validFrom)
      const expiresAt = Number(metadata.expiresAt)
      for (const now of [validFrom - 60, validFrom, expiresAt, expiresAt + 60]) {
        yield* Subkey.verifyProof(proof, subkey, now)
      }
      const early = yield* Effect.flip(Subkey.verifyProof(proof, subkey, validFrom - 61))
      assert.strictEqual(early.reason, "NotYetValid")
      const late = yield* Effect.flip(Subkey.verifyProof(proof, subkey, expiresAt + 61))
      assert.strictEqual(late.reason, "Expired")
    })
  )

  it.effect("refuses invalid master secrets and main keys with a typed error", () =>
    Effect.gen(function* () {
      const metadata = metadataFromVector(windowed.metadata)
      for (const secret of [new Uint8Array(32), new Uint8Array(31).fill(1), hexToBytes("ff".repeat(32))]) {
        const error = yield* Effect.flip(Subkey.deriveSubkeySecret(secret, metadata))
        assert.instanceOf(error, SubkeyDerivationError)
        assert.strictEqual(error.reason, "MasterSecret")
      }
      const offCurve = Primitives.PublicKeyHex.make("0000000000000000000000000000000000000000000000000000000000000005")
      const error = yield* Effect.flip(Subkey.deriveSubkeyPublic(offCurve, metadata))
      assert.strictEqual(error.reason, "MainKey")
      const proofError = yield* Effect.flip(
        Subkey.verifyProof({ mainKey: offCurve, metadata }, Primitives.PublicKeyHex.make(windowed.subkey_pubkey))
      )
      assert.strictEqual(proofError.reason, "Malformed")
    })
  )

  it.effect("a name longer than 65535 UTF-8 bytes does not decode", () =>
    Effect.gen(function* () {
      const wire = JSON.parse(windowed.metadata_wire)
      const error = yield* Effect.flip(
        Messages.decodeContent(Subkey.SubkeyMetadata, JSON.stringify({ ...wire, name: "é".repeat(40000) }))
      )
      assert.include(error.detail, "name")
    })
  )

  it.live.prop(
    "the public derivation matches the secret one for any key and metadata",
    [FastCheck.uint8Array({ minLength: 48, maxLength: 48 }), Subkey.SubkeyMetadata],
    ([seed, metadata]) =>
      Effect.gen(function* () {
        const masterSecret = schnorr.utils.randomSecretKey(seed)
        const master = yield* PublicKey.parse(bytesToHex(schnorr.getPublicKey(masterSecret)))
        const secret = yield* Subkey.deriveSubkeySecret(masterSecret, metadata)
        const subkey = yield* Subkey.deriveSubkeyPublic(master, metadata)
        assert.strictEqual(bytesToHex(schnorr.getPublicKey(secret)), subkey)
        yield* Subkey.verifyProof({ mainKey: master, metadata }, subkey)
      }),
    { fastCheck: { numRuns: 30 } }
  )

  it.live.prop("decode(encode(x)) = x for SubkeyMetadata and SubkeyProof", [Subkey.SubkeyProof], ([proof]) =>
    Effect.gen(function* () {
      const text = yield* Messages.encodeContent(Subkey.SubkeyProof, proof)
      assert.deepStrictEqual(yield* Messages.decodeContent(Subkey.SubkeyProof, text), proof)
      const metadataText = yield* Messages.encodeContent(Subkey.SubkeyMetadata, proof.metadata)
      assert.deepStrictEqual(yield* Messages.decodeContent(Subkey.SubkeyMetadata, metadataText), proof.metadata)
    })
  )
})
