import { assert, describe, it } from "@effect/vitest"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import { HandshakeUrlError } from "@portal/protocol/ProtocolError"
import * as PublicKey from "@portal/protocol/PublicKey"
import * as Arbitrary from "effect/Arbitrary"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"

// ---------------------------------------------------------------------------------------------------------------
// Conformance vectors (../shared/vectors/handshake-url.json), decoded rather than cast
// ---------------------------------------------------------------------------------------------------------------

const Parsed = Schema.Struct({
  main_key: PublicKeyHex,
  relays: Schema.Array(Schema.String),
  token: Schema.String,
  subkey: Schema.NullOr(PublicKeyHex),
  no_request: Schema.Boolean,
  send_to: PublicKeyHex,
  all_keys: Schema.Array(PublicKeyHex)
})
const ParseVector = Schema.Struct({
  name: Schema.String,
  url: Schema.String,
  canonical: Schema.Boolean,
  expected: Parsed
})
const ErrorVector = Schema.Struct({
  name: Schema.String,
  url: Schema.String,
  error: HandshakeUrlError.fields.reason,
  error_detail: Schema.optional(Schema.String)
})
const HandshakeVectors = Schema.parseJson(
  Schema.Struct({ vectors: Schema.Array(Schema.Union(ParseVector, ErrorVector)) })
)

const vectors = Schema.decodeUnknownSync(HandshakeVectors)(
  readFileSync(new URL("../../../../shared/vectors/handshake-url.json", import.meta.url), "utf8")
).vectors
const parseVectors = vectors.filter((v): v is typeof ParseVector.Type => "expected" in v)
const errorVectors = vectors.filter((v): v is typeof ErrorVector.Type => "error" in v)

describe("HandshakeUrl vectors", () => {
  it("cover parsing, canonical building and errors", () => {
    assert.strictEqual(parseVectors.length + errorVectors.length, vectors.length)
    assert.isAbove(parseVectors.filter((v) => v.canonical).length, 0)
    assert.isAbove(parseVectors.filter((v) => !v.canonical).length, 0)
    assert.isAbove(errorVectors.length, 0)
  })

  for (const v of parseVectors) {
    it.effect(`parse: ${v.name}`, () =>
      Effect.gen(function* () {
        const url = yield* HandshakeUrl.parse(v.url)
        assert.strictEqual(url.mainKey, v.expected.main_key)
        assert.deepStrictEqual(url.relays, v.expected.relays)
        assert.strictEqual(url.token, v.expected.token)
        assert.deepStrictEqual(url.subkey, Option.fromNullable(v.expected.subkey))
        assert.strictEqual(url.noRequest, v.expected.no_request)
        assert.strictEqual(url.sendTo, v.expected.send_to)
        assert.deepStrictEqual(url.allKeys, v.expected.all_keys)
        if (v.canonical) {
          const built = HandshakeUrl.build({
            mainKey: v.expected.main_key,
            relays: v.expected.relays,
            token: v.expected.token,
            subkey: v.expected.subkey ?? undefined,
            noRequest: v.expected.no_request
          })
          assert.strictEqual(built, v.url)
          assert.strictEqual(HandshakeUrl.format(url), v.url)
        }
      })
    )
  }

  for (const v of errorVectors) {
    it.effect(`error: ${v.name}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(HandshakeUrl.parse(v.url))
        assert.instanceOf(error, HandshakeUrlError)
        assert.strictEqual(error.reason, v.error)
        if (v.error_detail !== undefined) assert.strictEqual(error.detail, v.error_detail)
      })
    )
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Behaviour beyond the vectors
// ---------------------------------------------------------------------------------------------------------------

const k1 = parseVectors.find((v) => v.name === "static token")!.expected.main_key
const base = `portal://${PublicKey.toNpub(k1)}`

describe("HandshakeUrl.parse", () => {
  it.effect("lets the last occurrence of a key win", () =>
    Effect.gen(function* () {
      const url = yield* HandshakeUrl.parse(
        `${base}?relays=wss%3A%2F%2Fa&token=first&relays=wss%3A%2F%2Fb&token=second&no_request=true&no_request=yes`
      )
      assert.deepStrictEqual(url.relays, ["wss://b"])
      assert.strictEqual(url.token, "second")
      assert.isFalse(url.noRequest)
    })
  )

  it.effect("percent-decodes UTF-8 and leaves a stray % alone", () =>
    Effect.gen(function* () {
      const url = yield* HandshakeUrl.parse(`${base}?relays=wss%3A%2F%2Fr%C3%A9lay,100%25,a%zz,b%4%41,c%&token=t`)
      assert.deepStrictEqual(url.relays, ["wss://rélay", "100%", "a%zz", "b%4A", "c%"])
    })
  )

  it.effect("refuses relays that are not UTF-8 once decoded", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(HandshakeUrl.parse(`${base}?relays=wss%3A%2F%2F%FF&token=t`))
      assert.strictEqual(error.reason, "InvalidRelayUrl")
    })
  )

  it.effect("refuses a subkey that is not an npub, and keys that are not curve points", () =>
    Effect.gen(function* () {
      const hexSubkey = yield* Effect.flip(HandshakeUrl.parse(`${base}?relays=x&token=t&subkey=${k1}`))
      assert.strictEqual(hexSubkey.reason, "Bech32")
      // x = 5 is not the x-coordinate of a secp256k1 point
      const notOnCurve = PublicKey.toNpub(PublicKeyHex.make("05".padStart(64, "0")))
      const offCurve = yield* Effect.flip(HandshakeUrl.parse(`portal://${notOnCurve}?relays=x&token=t`))
      assert.strictEqual(offCurve.reason, "Bech32")
    })
  )

  it.effect("an empty query is a parameter without a value", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(HandshakeUrl.parse(`${base}?`))
      assert.strictEqual(error.reason, "InvalidQueryParam")
    })
  )

  it("build encodes every byte outside A-Z a-z 0-9 - _ . ~, and an empty relay list as relays=", () => {
    const url = HandshakeUrl.build({ mainKey: k1, relays: ["a b!*'()~-_.", "ü"], token: "t" })
    assert.strictEqual(url, `${base}?relays=a%20b%21%2A%27%28%29~-_.,%C3%BC&token=t`)
    assert.strictEqual(HandshakeUrl.build({ mainKey: k1, relays: [], token: "t" }), `${base}?relays=&token=t`)
  })

  it.effect("HandshakeUrlFromString decodes and encodes", () =>
    Effect.gen(function* () {
      const text = `${base}?relays=wss%3A%2F%2Frelay.damus.io&token=abc&no_request=true`
      const url = yield* Schema.decode(HandshakeUrl.HandshakeUrlFromString)(text)
      assert.isTrue(url.noRequest)
      assert.strictEqual(yield* Schema.encode(HandshakeUrl.HandshakeUrlFromString)(url), text)
      const error = yield* Effect.flip(Schema.decode(HandshakeUrl.HandshakeUrlFromString)("https://example.com"))
      assert.include(error.message, "InvalidProtocol")
    })
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const key = Arbitrary.make(PublicKey.PublicKey)
// The token is written unencoded: `&` would split it, and whitespace at the end of the URL is trimmed.
const token = fc.string().filter((t) => !t.includes("&") && t.trim() === t)

describe("HandshakeUrl properties", () => {
  it.prop(
    "parse(build(x)) gives x back",
    {
      mainKey: key,
      relays: fc.array(fc.fullUnicodeString(), { minLength: 1, maxLength: 4 }),
      token,
      subkey: fc.option(key, { nil: undefined }),
      noRequest: fc.boolean()
    },
    ({ mainKey, noRequest, relays, subkey, token }) => {
      const text = HandshakeUrl.build({ mainKey, relays, token, subkey, noRequest })
      const parsed = Schema.decodeEither(HandshakeUrl.HandshakeUrlFromString)(text)
      assert.isTrue(Either.isRight(parsed), text)
      const url = Either.getOrThrow(parsed)
      assert.strictEqual(url.mainKey, mainKey)
      assert.deepStrictEqual(url.relays, relays)
      assert.strictEqual(url.token, token)
      assert.deepStrictEqual(url.subkey, Option.fromNullable(subkey))
      assert.strictEqual(url.noRequest, noRequest)
      assert.strictEqual(url.sendTo, subkey ?? mainKey)
      assert.strictEqual(HandshakeUrl.format(url), text)
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.live.prop(
    "parse never throws: a HandshakeUrl or a HandshakeUrlError",
    [
      fc.oneof(
        fc.fullUnicodeString(),
        fc.fullUnicodeString().map((s) => `${base}?${s}`)
      )
    ],
    ([input]) =>
      Effect.gen(function* () {
        const result = yield* Effect.either(HandshakeUrl.parse(input))
        if (Either.isLeft(result)) assert.instanceOf(result.left, HandshakeUrlError)
        else assert.strictEqual(result.right.mainKey, k1)
      }),
    { fastCheck: { numRuns: 300 } }
  )
})
