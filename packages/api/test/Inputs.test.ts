import { assert, describe, it } from "@effect/vitest"
import * as Inputs from "@portal/api/Inputs"
import * as KeysApi from "@portal/api/KeysApi"
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import * as PublicKey from "@portal/protocol/PublicKey"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): Either.Either<unknown, string> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(schema)(input),
    (e) => ParseResult.ArrayFormatter.formatErrorSync(e)[0]!.message
  )

interface KeyVector {
  readonly pubkey_hex?: string
  readonly npub?: string
  readonly valid?: boolean
  readonly input?: string
}
const keyVectors = (
  JSON.parse(readFileSync(new URL("../../../../shared/vectors/keys.json", import.meta.url), "utf8")) as {
    readonly vectors: ReadonlyArray<KeyVector>
  }
).vectors

describe("Inputs", () => {
  it("Timestamp accepts decimal strings up to u64::MAX and safe integers (differences.md §a)", () => {
    assert.deepStrictEqual(decode(Inputs.Timestamp, "1700000000"), Either.right(1700000000))
    assert.deepStrictEqual(decode(Inputs.Timestamp, 1700000000), Either.right(1700000000))
    assert.deepStrictEqual(decode(Inputs.Timestamp, "0017"), Either.right(17))
    // beyond 2^53 s (285 million years) the value is clamped: it only ever means "never"
    assert.deepStrictEqual(decode(Inputs.Timestamp, "18446744073709551615"), Either.right(Number.MAX_SAFE_INTEGER))
    for (const bad of [-1, 1.5, "", " 17", "1e9", true, null, "18446744073709551616", Number.MAX_SAFE_INTEGER + 1]) {
      assert.deepStrictEqual(
        decode(Inputs.Timestamp, bad),
        Either.left(`expected Unix seconds as a decimal string or integer, got ${Inputs.show(bad)}`),
        String(bad)
      )
    }
    assert.strictEqual(Schema.encodeSync(Inputs.Timestamp)(1700000000 as never), "1700000000")
  })

  it("CurrencyInput resolves aliases and ISO-4217 codes, and refuses sats and unknown codes (differences.md §b)", () => {
    for (const msat of ["Millisats", "millisats", "MILLISATS", "msat", "MSat"]) {
      assert.deepStrictEqual(decode(Inputs.CurrencyInput, msat), Either.right(Currency.millisats), msat)
    }
    assert.deepStrictEqual(decode(Inputs.CurrencyInput, "eur"), Either.right(Currency.fiat("EUR")))
    assert.deepStrictEqual(decode(Inputs.CurrencyInput, "JPY"), Either.right(Currency.fiat("JPY")))
    assert.deepStrictEqual(
      decode(Inputs.CurrencyInput, "Sats"),
      Either.left('"Sats" is not accepted; amounts are in millisats: use "Millisats" and multiply by 1000')
    )
    for (const bad of ["ABC", "XTS", "XXX", "EURO", { Fiat: "EUR" }, 978]) {
      assert.deepStrictEqual(
        decode(Inputs.CurrencyInput, bad),
        Either.left(`unsupported currency ${Inputs.show(bad)}: expected "Millisats" or an ISO-4217 code such as "EUR"`)
      )
    }
    assert.strictEqual(Schema.encodeSync(Inputs.CurrencyInput)(Currency.millisats), "Millisats")
    assert.strictEqual(Schema.encodeSync(Inputs.CurrencyInput)(Currency.fiat("USD")), "USD")
  })

  it("PositiveAmount wants an integer > 0", () => {
    assert.deepStrictEqual(decode(Inputs.PositiveAmount, 1), Either.right(1))
    for (const bad of [0, -5, 1.5, "10", null]) {
      assert.deepStrictEqual(
        decode(Inputs.PositiveAmount, bad),
        Either.left(`expected an integer greater than 0, got ${Inputs.show(bad)}`)
      )
    }
  })

  it("KeyInput accepts every valid key vector as hex, npub and nostr:npub, and refuses the invalid ones", () => {
    const valid = keyVectors.filter((v) => v.pubkey_hex !== undefined && v.npub !== undefined && v.valid !== false)
    assert.isAbove(valid.length, 0)
    for (const v of valid) {
      for (const input of [v.pubkey_hex!, v.pubkey_hex!.toUpperCase(), v.npub!, `nostr:${v.npub!}`]) {
        assert.deepStrictEqual(decode(Inputs.MainKey, input), Either.right(v.pubkey_hex), input)
      }
    }
    const invalid = keyVectors.filter((v) => v.valid === false && v.input !== undefined)
    assert.isAbove(invalid.length, 0)
    for (const v of invalid) {
      const result = decode(Inputs.RecipientKey, v.input)
      assert.isTrue(Either.isLeft(result), v.input)
      assert.match(Option.getOrThrow(Either.getLeft(result)), /^Invalid recipient key: /)
    }
  })

  it("Subkeys defaults to [] when absent or null (differences.md §p)", () => {
    const S = Schema.Struct({ subkeys: Inputs.Subkeys })
    assert.deepStrictEqual(Schema.decodeUnknownSync(S)({}), { subkeys: [] })
    assert.deepStrictEqual(Schema.decodeUnknownSync(S)({ subkeys: null }), { subkeys: [] })
  })

  it.effect("CalendarInput parses with the protocol grammar and keeps the zone when encoding", () =>
    Effect.gen(function* () {
      const parsed = decode(Inputs.CalendarInput, "*-*-* 00:00:00 Europe/Rome")
      assert.isTrue(Either.isRight(parsed))
      const calendar = yield* Calendar.parse("*-*-* 00:00:00 Europe/Rome")
      assert.strictEqual(Schema.encodeSync(Inputs.CalendarInput)(calendar), "*-*-* 00:00:00 Europe/Rome")
      assert.match(
        Option.getOrThrow(Either.getLeft(decode(Inputs.CalendarInput, "every fortnight"))),
        /^Invalid calendar: /
      )
    })
  )

  it("RelayUrl normalises ws/wss URLs and refuses others (differences.md §l)", () => {
    assert.deepStrictEqual(
      decode(Inputs.RelayUrl, "WSS://Relay.Example.org:443/"),
      Either.right("wss://relay.example.org")
    )
    assert.deepStrictEqual(
      decode(Inputs.RelayUrl, "ws://relay.example.org:7777/path/"),
      Either.right("ws://relay.example.org:7777/path")
    )
    for (const bad of ["https://relay.example.org", "relay.example.org", "wss://", 5]) {
      assert.deepStrictEqual(decode(Inputs.RelayUrl, bad), Either.left("expected a ws:// or wss:// URL"))
    }
  })

  it("StaticToken allows 1–128 URL-safe characters (differences.md §c)", () => {
    assert.isTrue(Either.isRight(decode(Inputs.StaticToken, "table-14.restaurant_a~")))
    for (const bad of ["", "has space", "a/b", "x".repeat(129)]) {
      assert.deepStrictEqual(
        decode(Inputs.StaticToken, bad),
        Either.left("use 1–128 characters from A-Z a-z 0-9 . _ ~ -")
      )
    }
  })

  it("KeyHandshakeRequest: an empty body (null) and {} both mean no static token, no_request false", () => {
    const expected = { static_token: Option.none(), no_request: false }
    assert.deepStrictEqual(Schema.decodeUnknownSync(KeysApi.KeyHandshakeRequest)(null), expected)
    assert.deepStrictEqual(Schema.decodeUnknownSync(KeysApi.KeyHandshakeRequest)({}), expected)
    assert.deepStrictEqual(
      Schema.decodeUnknownSync(KeysApi.KeyHandshakeRequest)({ static_token: null, no_request: null }),
      expected
    )
    assert.deepStrictEqual(Schema.encodeSync(KeysApi.KeyHandshakeRequest)(expected), { no_request: false })
  })

  it("keys in responses are lowercase hex", () => {
    assert.strictEqual(PublicKey.isOnCurve("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"), true)
    assert.deepStrictEqual(
      decode(Inputs.TargetKey, "79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"),
      Either.right("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    )
  })
})
