import { assert, describe, it } from "@effect/vitest"
import * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import * as Primitives from "@portal/protocol/Primitives"
import { InvalidAmount } from "@portal/protocol/ProtocolError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { load } from "./sharedVectors.js"

const vectors = load("currency.json")
const serde = vectors.filter((v) => v.group === "serde")
const conversions = vectors.filter((v) => v.group === "fiat_to_msat")

const expectedCurrency = (decoded: { kind: string; code?: string }): Currency.Currency =>
  decoded.kind === "millisats" ? Currency.millisats : Currency.fiat(decoded.code!)

describe("Currency", () => {
  it("currency.json has serde and conversion vectors", () => {
    assert.strictEqual(serde.length + conversions.length, vectors.length)
    assert.isAbove(serde.length, 0)
    assert.isAbove(conversions.length, 0)
  })

  for (const v of serde) {
    if (v.reference_rejects) {
      it.effect(`rejects ${v.name}`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Schema.decodeUnknown(Currency.Currency)(JSON.parse(v.wire)))
          assert.instanceOf(error, ParseResult.ParseError)
        })
      )
    } else {
      it.effect(`decodes and re-encodes ${v.name}`, () =>
        Effect.gen(function* () {
          const currency = yield* Schema.decodeUnknown(Currency.Currency)(JSON.parse(v.wire))
          assert.deepStrictEqual(currency, expectedCurrency(v.decoded))
          assert.strictEqual(JSON.stringify(yield* Schema.encode(Currency.Currency)(currency)), v.wire)
        })
      )
    }
  }

  for (const v of conversions) {
    it.effect(`fiatToMsat: ${v.name}`, () =>
      Effect.gen(function* () {
        const msat = yield* Currency.fiatToMsat(Primitives.Amount.make(v.amount), v.rate)
        assert.strictEqual(msat, v.expected_msat)
        const viaCurrency = yield* Currency.toMsat(
          Primitives.Amount.make(v.amount),
          Currency.fiat("EUR"),
          Option.some({ rate: v.rate, source: "kraken", time: Primitives.UnixSeconds.make(0) })
        )
        assert.strictEqual(viaCurrency, v.expected_msat)
      })
    )
  }

  it.effect("refuses zero, negative and non-finite rates", () =>
    Effect.gen(function* () {
      for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        const error = yield* Effect.flip(Currency.fiatToMsat(Primitives.Amount.make(100), rate))
        assert.instanceOf(error, InvalidAmount)
        assert.strictEqual(error.field, "rate")
      }
    })
  )

  it.effect("refuses a conversion whose result is not a safe integer", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Currency.fiatToMsat(Primitives.Amount.make(Number.MAX_SAFE_INTEGER), 1e-9))
      assert.instanceOf(error, InvalidAmount)
      assert.strictEqual(error.field, "amount")
    })
  )

  it.effect("millisats need no rate; fiat without a rate is a typed error", () =>
    Effect.gen(function* () {
      const amount = Primitives.Amount.make(21000)
      assert.strictEqual(yield* Currency.toMsat(amount, Currency.millisats, Option.none()), 21000)
      const error = yield* Effect.flip(Currency.toMsat(amount, Currency.fiat("USD"), Option.none()))
      assert.strictEqual(error.field, "current_exchange_rate")
    })
  )

  it('a fiat code cannot be "Millisats"', () => {
    assert.throws(() => Currency.Fiat.make({ code: "Millisats" }))
  })

  it.effect("an integral rate is printed with .0, like the reference", () =>
    Effect.gen(function* () {
      const text = yield* Messages.encodeContent(Currency.ExchangeRate, {
        rate: 95000,
        source: "kraken",
        time: Primitives.UnixSeconds.make(1700000000)
      })
      assert.strictEqual(text, '{"rate":95000.0,"source":"kraken","time":"1700000000"}')
      const back = yield* Messages.decodeContent(Currency.ExchangeRate, text)
      assert.strictEqual(back.rate, 95000)
    })
  )

  it.live.prop(
    "decode(encode(x)) = x for Currency and ExchangeRate",
    [Currency.Currency, Currency.ExchangeRate],
    ([currency, rate]) =>
      Effect.gen(function* () {
        const wire = yield* Schema.encode(Currency.Currency)(currency)
        assert.deepStrictEqual(yield* Schema.decodeUnknown(Currency.Currency)(wire), currency)
        const text = yield* Messages.encodeContent(Currency.ExchangeRate, rate)
        assert.deepStrictEqual(yield* Messages.decodeContent(Currency.ExchangeRate, text), rate)
      })
  )
})
