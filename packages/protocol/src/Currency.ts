/**
 * Currencies, exchange rates and the fiat → msat conversion of Portal payment content (protocol.md §3.3, §5.4).
 *
 * Wire form: `"Millisats"` (exact case) means millisatoshis; **any other string** is a fiat code (`"EUR"`, and even
 * `"millisats"`). The object form `{"Fiat":"EUR"}` is rejected, as the reference does. A fiat amount is in minor
 * units (cents) for every code, and both sides convert with the reference's f64 formula (`fiatToMsat`).
 * The REST leniencies of differences.md §b (`"msat"`, lowercase ISO codes) are not applied here: they belong to the
 * HTTP input schemas, never to what travels over Nostr.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type Amount, Float64, Msat, TimestampFromString } from "./Primitives.js"
import { InvalidAmount } from "./ProtocolError.js"

const MILLISATS = "Millisats"

/**
 * Millisatoshis: amounts are msat.
 * @category currencies
 */
export const Millisats = Schema.TaggedStruct("Millisats", {})
/** @category currencies */
export type Millisats = typeof Millisats.Type

/**
 * A fiat code as the wire carries it: any string but `"Millisats"`. Case is kept (`"eur"` is not `"EUR"`).
 * @category currencies
 */
export const FiatCode = Schema.String.pipe(
  Schema.filter((code) => code !== MILLISATS || `"${MILLISATS}" is not a fiat code`)
)

/**
 * A fiat currency: amounts are minor units (cents) of `code`.
 * @category currencies
 */
export const Fiat = Schema.TaggedStruct("Fiat", { code: FiatCode })
/** @category currencies */
export type Fiat = typeof Fiat.Type

/**
 * The currency of a Portal amount: `"Millisats"` or a bare fiat code string on the wire.
 * @category currencies
 */
export const Currency = Schema.transform(Schema.String, Schema.Union(Millisats, Fiat), {
  strict: true,
  decode: (wire) => (wire === MILLISATS ? Millisats.make({}) : Fiat.make({ code: wire })),
  encode: (currency) => ("code" in currency ? currency.code : MILLISATS)
}).annotations({ identifier: "Currency" })
/** @category currencies */
export type Currency = typeof Currency.Type

/** @category constructors */
export const millisats: Currency = Millisats.make({})
/** @category constructors */
export const fiat = (code: string): Currency => Fiat.make({ code })

/**
 * True when the currency is millisatoshis.
 * @category predicates
 */
export const isMillisats = (currency: Currency): currency is Millisats => !("code" in currency)

/**
 * A rate quote: `rate` is fiat units per 1 BTC (a JSON float), `source` the lowercase provider name, `time` when
 * it was quoted (a decimal-string timestamp on the wire).
 * @category rates
 */
export const ExchangeRate = Schema.Struct({
  rate: Float64,
  source: Schema.String,
  time: TimestampFromString
}).annotations({ identifier: "ExchangeRate" })
/** @category rates */
export type ExchangeRate = typeof ExchangeRate.Type

/**
 * Converts fiat minor units to msat exactly as the reference does on both sides:
 * `max(trunc(((amount / 100) / rate) × 1e11), 0)` in IEEE f64, in that order (so 1999 cents at 50000.0 gives
 * 39979999, not 39980000). Fails for a non-finite or non-positive rate, and when the result is not a safe integer.
 * @category conversion
 */
export const fiatToMsat = (amount: Amount, rate: number): Effect.Effect<Msat, InvalidAmount> => {
  if (!Number.isFinite(rate) || rate <= 0) {
    return Effect.fail(new InvalidAmount({ field: "rate", detail: `expected a finite rate > 0, got ${rate}` }))
  }
  if (!Number.isSafeInteger(amount) || amount < 0) {
    return Effect.fail(new InvalidAmount({ field: "amount", detail: `expected whole cents ≥ 0, got ${amount}` }))
  }
  const msat = Math.max(Math.trunc((amount / 100 / rate) * 1e11), 0)
  return Number.isSafeInteger(msat)
    ? Effect.succeed(Msat.make(msat))
    : Effect.fail(
        new InvalidAmount({ field: "amount", detail: `${amount} cents at ${rate} is too many msat (${msat})` })
      )
}

/**
 * The msat value of an amount in `currency`: the amount itself for millisats, `fiatToMsat` with the given rate
 * for fiat (which then requires a rate).
 * @category conversion
 */
export const toMsat = (
  amount: Amount,
  currency: Currency,
  rate: Option.Option<ExchangeRate>
): Effect.Effect<Msat, InvalidAmount> => {
  if (isMillisats(currency)) return Effect.succeed(Msat.make(amount))
  return Option.match(rate, {
    onNone: () =>
      Effect.fail(
        new InvalidAmount({
          field: "current_exchange_rate",
          detail: `an exchange rate is required to convert ${currency.code} to msat`
        })
      ),
    onSome: (quote) => fiatToMsat(amount, quote.rate)
  })
}
