import { assert, describe, it } from "@effect/vitest"
import * as PublicKey from "@portal/protocol/PublicKey"
import { InvalidPublicKey } from "@portal/protocol/ProtocolError"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { load } from "./sharedVectors.js"

const keys = load("keys.json")
const publicKeys = keys.filter((v) => typeof v.pubkey_hex === "string")
const invalidInputs = keys.filter((v) => v.valid === false)

describe("PublicKey", () => {
  it("keys.json has public-key and invalid-input vectors", () => {
    assert.isAbove(publicKeys.length, 10)
    assert.strictEqual(invalidInputs.length, 4)
  })

  for (const v of publicKeys) {
    it.effect(`parses every form of ${v.name}`, () =>
      Effect.gen(function* () {
        for (const input of [v.pubkey_hex, v.pubkey_hex.toUpperCase(), v.npub, `nostr:${v.npub}`]) {
          assert.strictEqual(yield* PublicKey.parse(input), v.pubkey_hex, input)
        }
        assert.strictEqual(PublicKey.toNpub(yield* PublicKey.parse(v.pubkey_hex)), v.npub)
      })
    )
  }

  for (const v of invalidInputs) {
    it.effect(`refuses ${v.name}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(PublicKey.parse(v.input))
        assert.instanceOf(error, InvalidPublicKey)
        assert.strictEqual(error.input, v.input)
        const decoded = yield* Effect.flip(Schema.decodeUnknown(PublicKey.PublicKeyFromInput)(v.input))
        assert.instanceOf(decoded, ParseResult.ParseError)
      })
    )
  }

  it.effect("refuses garbage, an empty string and padded input", () =>
    Effect.gen(function* () {
      const npub = publicKeys[0]!.npub
      for (const input of ["", "npub1", "nostr:", ` ${npub}`, `${publicKeys[0]!.pubkey_hex}00`, "nostr:nsec1xyz"]) {
        const error = yield* Effect.flip(PublicKey.parse(input))
        assert.instanceOf(error, InvalidPublicKey, input)
      }
    })
  )

  it.effect("PublicKeyFromInput decodes npub to hex and encodes hex", () =>
    Effect.gen(function* () {
      const v = publicKeys[0]!
      const hex = yield* Schema.decodeUnknown(PublicKey.PublicKeyFromInput)(`nostr:${v.npub}`)
      assert.strictEqual(hex, v.pubkey_hex)
      assert.strictEqual(yield* Schema.encode(PublicKey.PublicKeyFromInput)(hex), v.pubkey_hex)
    })
  )

  it.live.prop("npub round-trips every valid key", [PublicKey.PublicKey], ([key]) =>
    Effect.gen(function* () {
      assert.strictEqual(yield* PublicKey.parse(PublicKey.toNpub(key)), key)
      assert.isTrue(PublicKey.isOnCurve(key))
    })
  )
})
