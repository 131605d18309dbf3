/**
 * Fiat exchange rates for payments priced in a fiat currency (rest-api.md §1.4, differences.md §b, protocol.md §5.4).
 *
 * - Sources are pluggable (`Source`): `fixedSource` (rates from settings, for tests and the sandbox) and
 *   `yadioSource` (an HTTP JSON source in the shape of yadio's `/exrates/BTC`, over `HttpClient`).
 * - Quotes are cached per code for `maxAge`; a quote older than that is never used: the source is asked again and
 *   its failure is reported (`RateUnavailable`, 502), never hidden behind a stale rate.
 * - A code the source does not price is `RateUnsupported` (400 `currency: "XYZ" is not supported by the
 *   exchange-rate source`).
 * - Rates are fiat units per 1 BTC (an f64, as on the wire); conversion to msat is `Currency.fiatToMsat`, the
 *   reference's exact formula, so the user side computes the same msat from the rate we send.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { ExchangeRate } from "@portal/protocol/Currency"
import { UnixSeconds } from "@portal/protocol/Primitives"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * The rate source does not price this currency.
 * @category errors
 */
export class RateUnsupported extends Schema.TaggedError<RateUnsupported>()("RateUnsupported", {
  code: Schema.String
}) {
  override get message() {
    return `currency: "${this.code}" is not supported by the exchange-rate source`
  }
}

/**
 * The rate source failed or did not answer usefully.
 * @category errors
 */
export class RateUnavailable extends Schema.TaggedError<RateUnavailable>()("RateUnavailable", {
  source: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Failed to fetch market data: ${this.source}: ${this.detail}`
  }
}

/**
 * A place rates come from. `fetch` answers the rate of one code (fiat units per BTC), `None` when the source does
 * not price it.
 * @category models
 */
export interface Source {
  /** Lowercase provider name, sent as `current_exchange_rate.source`. */
  readonly name: string
  readonly fetch: (code: string) => Effect.Effect<Option.Option<number>, RateUnavailable>
}

/** @category models */
export interface Service {
  /** The rate for `code` (uppercase ISO-4217), fresh within the staleness limit. */
  readonly quote: (code: string) => Effect.Effect<ExchangeRate, RateUnsupported | RateUnavailable>
}

/** @category tags */
export class Rates extends Context.Tag("@portal/server/Rates")<Rates, Service>() {}

/**
 * Rates from settings (`rates.fixed`, e.g. `EUR=50000`): what tests and the sandbox price with.
 * @category sources
 */
export const fixedSource = (rates: Readonly<Record<string, number>>, name = "fixed"): Source => ({
  name,
  fetch: (code) => Effect.succeed(Option.fromNullable(rates[code]))
})

const YadioReply = Schema.Struct({ BTC: Schema.Record({ key: Schema.String, value: Schema.Number }) })

/**
 * An HTTP source answering `GET <url>` with `{"BTC":{"EUR":50000.5,…}}` (yadio's `/exrates/BTC` shape).
 * @category sources
 */
export const yadioSource = (url: string, client: HttpClient.HttpClient, name = "yadio"): Source => ({
  name,
  fetch: (code) =>
    client.get(url).pipe(
      Effect.flatMap(HttpClientResponse.filterStatusOk),
      Effect.flatMap(HttpClientResponse.schemaBodyJson(YadioReply)),
      Effect.scoped,
      Effect.timeout("10 seconds"),
      Effect.map((reply) => Option.filter(Option.fromNullable(reply.BTC[code]), (r) => Number.isFinite(r) && r > 0)),
      Effect.mapError((e) => new RateUnavailable({ source: name, detail: e.message }))
    )
})

/** @category options */
export interface Options {
  /** Where rates come from; none: every fiat currency is unsupported. */
  readonly source?: Source | undefined
  /** How long a quote is reused (default 60 s). */
  readonly maxAge?: Duration.DurationInput | undefined
}

/**
 * The service with its cache.
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service> =>
  Effect.sync(() => {
    const maxAge = Duration.toMillis(Duration.decode(options.maxAge ?? "60 seconds"))
    const cache = new Map<string, { readonly at: number; readonly quote: ExchangeRate }>()
    const quote: Service["quote"] = (code) =>
      Effect.gen(function* () {
        const source = options.source
        if (source === undefined) return yield* new RateUnsupported({ code })
        const now = yield* Clock.currentTimeMillis
        const cached = cache.get(code)
        if (cached !== undefined && now - cached.at <= maxAge) return cached.quote
        const rate = yield* source.fetch(code)
        if (Option.isNone(rate)) return yield* new RateUnsupported({ code })
        const fresh: ExchangeRate = {
          rate: rate.value,
          source: source.name,
          time: UnixSeconds.make(Math.floor(now / 1000))
        }
        cache.set(code, { at: now, quote: fresh })
        return fresh
      }).pipe(Effect.withSpan("Rates.quote", { attributes: { code } }))
    return Rates.of({ quote })
  })

/** @category layers */
export const layer = (options: Options): Layer.Layer<Rates> => Layer.effect(Rates, make(options))

/**
 * Parses `rates.fixed` entries (`EUR=50000.5`); a bad entry is reported by its text.
 * @category sources
 */
export const parseFixed = (entries: ReadonlyArray<string>): Effect.Effect<Record<string, number>, string> =>
  Effect.gen(function* () {
    const out: Record<string, number> = {}
    for (const entry of entries) {
      const match = /^\s*([A-Za-z]{3})\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*$/.exec(entry)
      const rate = match === null ? Number.NaN : Number(match[2])
      if (match === null || !(rate > 0)) {
        return yield* Effect.fail(`expected CODE=rate with a rate > 0 (fiat per BTC), got ${JSON.stringify(entry)}`)
      }
      out[match[1]!.toUpperCase()] = rate
    }
    return out
  })
