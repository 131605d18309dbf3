/**
 * The fiat rate service (differences.md §b): fixed rates from settings, a cache with a staleness limit (a stale quote
 * is never used when the source fails), unknown codes, and the HTTP (yadio-shaped) source against a real loopback
 * HTTP server.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Rates from "@portal/server/Rates"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

/** A source that counts its fetches and can be switched to failing. */
const counting = (rate: number) => {
  const state = { fetches: 0, failing: false }
  const source: Rates.Source = {
    name: "counting",
    fetch: () =>
      Effect.suspend(() => {
        state.fetches++
        return state.failing
          ? Effect.fail(new Rates.RateUnavailable({ source: "counting", detail: "down" }))
          : Effect.succeed(Option.some(rate))
      })
  }
  return { state, source }
}

/** A loopback HTTP server answering every request with `status` and `body`; closed with the scope. */
const serve = (status: number, body: string) =>
  Effect.acquireRelease(
    Effect.async<Server>((resume) => {
      const server = createServer((_, res) => {
        res.writeHead(status, { "content-type": "application/json" })
        res.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/exrates/BTC`))

describe("Rates", () => {
  it.effect("fixed rates: a quote carries the rate, the source name and the time; other codes are unsupported", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1700000000 seconds")
      const rates = yield* Rates.make({ source: Rates.fixedSource({ EUR: 50_000.5 }) })
      assert.deepStrictEqual(yield* rates.quote("EUR"), { rate: 50_000.5, source: "fixed", time: 1700000000 } as never)
      const unsupported = yield* Effect.flip(rates.quote("USD"))
      assert.strictEqual(unsupported._tag, "RateUnsupported")
      assert.strictEqual(unsupported.message, 'currency: "USD" is not supported by the exchange-rate source')
      const none = yield* Effect.flip((yield* Rates.make({})).quote("EUR"))
      assert.strictEqual(none._tag, "RateUnsupported")
    })
  )

  it.effect("quotes are reused within max age, fetched again after it, and never served stale", () =>
    Effect.gen(function* () {
      const { source, state } = counting(60_000)
      const rates = yield* Rates.make({ source, maxAge: "60 seconds" })
      yield* rates.quote("EUR")
      yield* TestClock.adjust("59 seconds")
      yield* rates.quote("EUR")
      assert.strictEqual(state.fetches, 1)
      yield* TestClock.adjust("2 seconds")
      const fresh = yield* rates.quote("EUR")
      assert.strictEqual(state.fetches, 2)
      assert.strictEqual(fresh.time, 61)
      state.failing = true
      yield* TestClock.adjust("61 seconds")
      const down = yield* Effect.flip(rates.quote("EUR"))
      assert.strictEqual(down._tag, "RateUnavailable")
      assert.strictEqual(down.message, "Failed to fetch market data: counting: down")
    })
  )

  it.scoped("the HTTP source reads {BTC:{CODE:rate}} from a real server; a failing server is RateUnavailable", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const good = yield* serve(200, JSON.stringify({ BTC: { EUR: 91_234.5, USD: 99_000 }, base: "BTC" }))
      const rates = yield* Rates.make({ source: Rates.yadioSource(good, client) })
      const quote = yield* rates.quote("EUR")
      assert.strictEqual(quote.rate, 91_234.5)
      assert.strictEqual(quote.source, "yadio")
      assert.strictEqual((yield* Effect.flip(rates.quote("XAF")))._tag, "RateUnsupported")
      const broken = yield* serve(500, "{}")
      const failing = yield* Rates.make({ source: Rates.yadioSource(broken, client) })
      const error = yield* Effect.flip(failing.quote("EUR"))
      assert.strictEqual(error._tag, "RateUnavailable")
      assert.match(error.message, /^Failed to fetch market data: yadio: /)
      const garbage = yield* serve(200, JSON.stringify({ BTC: "nope" }))
      assert.strictEqual(
        (yield* Effect.flip((yield* Rates.make({ source: Rates.yadioSource(garbage, client) })).quote("EUR")))._tag,
        "RateUnavailable"
      )
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.effect("rates.fixed entries parse as CODE=rate; anything else names the entry", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* Rates.parseFixed(["eur=50000", " USD = 60000.25 "]), { EUR: 50000, USD: 60000.25 })
      const bad = yield* Effect.flip(Rates.parseFixed(["EUR=0"]))
      assert.strictEqual(bad, 'expected CODE=rate with a rate > 0 (fiat per BTC), got "EUR=0"')
      assert.isString(yield* Effect.flip(Rates.parseFixed(["EURO=1"])))
    })
  )
})
