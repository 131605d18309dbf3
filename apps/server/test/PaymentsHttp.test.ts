/**
 * The payment routes at the HTTP edge, without a wallet or a relay: the official client's requests (rest-api.md
 * Appendix A.2, optional fields absent and null) are accepted; no wallet → 400 naming `wallet.ln_backend`; a fiat
 * code the rate source does not price → 400; a deadline in the past → 400; the async routes store their stream
 * before the 201.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Rates from "@portal/server/Rates"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { authed, jsonRequest, layer as serverLayer, nip05Host, secretKey, sendJson, token } from "./HttpServerTest.js"

const userKey = PublicKeyHex.make("c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
const noWallet = "No Lightning wallet configured: set wallet.ln_backend (PORTAL__WALLET__LN_BACKEND) to nwc"

/** Services without relays and without a wallet; EUR priced at a fixed rate. */
const services = Layer.unwrapEffect(
  Effect.map(Effect.orDie(Keys.fromSecret(secretKey)), (keys) =>
    Services.layer({
      keys,
      relays: [],
      httpClient: nip05Host,
      rates: { source: Rates.fixedSource({ EUR: 50_000 }) }
    })
  )
).pipe(Layer.provide(Store.layerMemory), Layer.orDie)

/** A request exactly as the official client's `fetch` sends it. */
const call = (method: "GET" | "POST", path: string, body?: unknown) =>
  sendJson(
    body === undefined
      ? HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeader("authorization", `Bearer ${token}`))
      : jsonRequest("POST", path, body).pipe(authed)
  ).pipe(Effect.map((r) => ({ status: r.status, json: r.json as { success: boolean; data?: any; error?: string } })))

const future = "4102444800"

describe("payment routes without a wallet", () => {
  layer(serverLayer({}, {}, {}, services), { excludeTestServices: true })((it) => {
    it.effect("single payments, invoice payment and wallet info answer 400 naming wallet.ln_backend", () =>
      Effect.gen(function* () {
        for (const body of [
          {
            main_key: userKey,
            subkeys: [],
            payment_request: { description: "Coffee", amount: 10000, currency: "Millisats" }
          },
          {
            main_key: userKey,
            subkeys: [],
            payment_request: {
              description: "Coffee",
              amount: 1999,
              currency: "EUR",
              subscription_id: null,
              auth_token: null,
              request_id: null
            }
          }
        ]) {
          const r = yield* call("POST", "/payments/single", body)
          assert.strictEqual(r.status, 400, JSON.stringify(r.json))
          assert.deepStrictEqual(r.json, { success: false, error: noWallet })
        }
        const pay = yield* call("POST", "/invoices/pay", { invoice: "lnbc1" })
        assert.strictEqual(pay.status, 400)
        assert.deepStrictEqual(pay.json, { success: false, error: noWallet })
        const info = yield* call("GET", "/wallet/info")
        assert.strictEqual(info.status, 400)
        assert.match(info.json.error!, /wallet\.ln_backend \(PORTAL__WALLET__LN_BACKEND\)/)
      })
    )

    it.effect("raw, recurring and invoice requests start a stream (client bodies, fields absent and null)", () =>
      Effect.gen(function* () {
        const bodies: ReadonlyArray<readonly [string, unknown]> = [
          [
            "/payments/raw",
            {
              main_key: userKey,
              subkeys: [],
              payment_request: {
                amount: 10000,
                currency: "Millisats",
                description: "x",
                invoice: "lnbc1",
                expires_at: 4102444800
              }
            }
          ],
          [
            "/payments/raw",
            {
              main_key: userKey,
              subkeys: [],
              payment_request: {
                amount: 10000,
                currency: "Millisats",
                description: null,
                invoice: "lnbc1",
                expires_at: future,
                subscription_id: null,
                auth_token: null,
                current_exchange_rate: null
              }
            }
          ],
          [
            "/payments/recurring",
            {
              main_key: userKey,
              subkeys: [],
              payment_request: {
                amount: 10000,
                currency: "Millisats",
                recurrence: { calendar: "monthly", first_payment_due: future },
                expires_at: future
              }
            }
          ],
          [
            "/payments/recurring",
            {
              main_key: userKey,
              subkeys: [],
              payment_request: {
                amount: 500,
                currency: "eur",
                recurrence: { calendar: "monthly", first_payment_due: future, until: null, max_payments: null },
                description: null,
                current_exchange_rate: null,
                expires_at: future,
                auth_token: null
              }
            }
          ],
          [
            "/invoices/request",
            {
              recipient_key: userKey,
              subkeys: [],
              content: { amount: 5000, currency: "Millisats", expires_at: future }
            }
          ],
          [
            "/invoices/request",
            {
              recipient_key: userKey,
              subkeys: [],
              content: {
                amount: 5000,
                currency: "Millisats",
                expires_at: future,
                description: null,
                refund_invoice: null,
                request_id: null
              }
            }
          ]
        ]
        for (const [path, body] of bodies) {
          const r = yield* call("POST", path, body)
          assert.strictEqual(r.status, 201, `${path}: ${JSON.stringify(r.json)}`)
          const streamId = r.json.data.stream_id as string
          assert.match(streamId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
          const events = yield* call("GET", `/events/${streamId}`)
          assert.deepStrictEqual(events.json, { success: true, data: { stream_id: streamId, events: [] } })
        }
        const close = yield* call("POST", "/payments/recurring/close", {
          main_key: userKey,
          subkeys: [],
          subscription_id: "sub-1"
        })
        assert.deepStrictEqual(close, {
          status: 200,
          json: { success: true, data: { message: "Recurring payment closed" } }
        })
      })
    )

    it.effect("a fiat code the rate source does not price, or a past deadline, is 400 naming the field", () =>
      Effect.gen(function* () {
        const unpriced = yield* call("POST", "/invoices/request", {
          recipient_key: userKey,
          content: { amount: 5000, currency: "usd", expires_at: future }
        })
        assert.strictEqual(unpriced.status, 400)
        assert.strictEqual(unpriced.json.error, 'currency: "USD" is not supported by the exchange-rate source')
        const cases: ReadonlyArray<readonly [string, unknown, string]> = [
          [
            "/payments/raw",
            {
              main_key: userKey,
              payment_request: { amount: 1, currency: "Millisats", invoice: "lnbc1", expires_at: "1" }
            },
            "payment_request.expires_at: must be in the future"
          ],
          [
            "/payments/recurring",
            {
              main_key: userKey,
              payment_request: {
                amount: 1,
                currency: "Millisats",
                recurrence: { calendar: "daily", first_payment_due: future },
                expires_at: 1
              }
            },
            "payment_request.expires_at: must be in the future"
          ],
          [
            "/payments/recurring",
            {
              main_key: userKey,
              payment_request: {
                amount: 1,
                currency: "Millisats",
                recurrence: { calendar: "every tuesday-ish", first_payment_due: future },
                expires_at: future
              }
            },
            "Invalid calendar"
          ],
          [
            "/invoices/request",
            { recipient_key: userKey, content: { amount: 5, currency: "Millisats", expires_at: "0" } },
            "content.expires_at: must be in the future"
          ]
        ]
        for (const [path, body, message] of cases) {
          const r = yield* call("POST", path, body)
          assert.strictEqual(r.status, 400, `${path}: ${JSON.stringify(r.json)}`)
          assert.isTrue(r.json.error!.startsWith(message), r.json.error)
        }
      })
    )
  })
})
