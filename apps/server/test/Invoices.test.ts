/**
 * Invoices end to end: `POST /invoices/request` to a user from `@portal/user` whose own wallet (simulated network)
 * issues the invoice, then `POST /invoices/pay` with the daemon's `nwc` wallet (a real NIP-47 service on the loopback
 * relay over the same network); a user that never answers gives `error` `timeout` at `content.expires_at`.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Invoices from "@portal/user/Invoices"
import * as Currency from "@portal/protocol/Currency"
import { Amount, Msat, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as InvoicesServer from "@portal/server/Invoices"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Option from "effect/Option"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { awaitBalance, awaitEvents, post, started, startScene } from "./PaymentsHarness.js"

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

describe("invoices", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("request → the user's invoice in invoice_response → paid by the daemon's wallet", () =>
      Effect.gen(function* () {
        const { network, daemon, keys } = yield* startScene(
          { invoice: Invoices.issueAll },
          { balances: { daemon: 100_000, user: 0 } }
        )
        const expiresAt = (yield* nowSeconds) + 60
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/invoices/request", {
              recipient_key: keys.publicKey,
              subkeys: [],
              content: { amount: 5000, currency: "Millisats", expires_at: String(expiresAt), description: "refund" }
            })
            const [event, ...rest] = yield* awaitEvents(streamId, (events) => events.length > 0)
            assert.strictEqual(rest.length, 0)
            assert.strictEqual(event!.type, "invoice_response", JSON.stringify(event))
            const invoice = event!["invoice"] as string
            const decoded = yield* Bolt11.decode(invoice)
            assert.strictEqual(decoded.amountMsat, 5000)
            assert.strictEqual(event!["payment_hash"], decoded.paymentHash)

            const paid = yield* post("/invoices/pay", { invoice })
            assert.strictEqual(paid.status, 200, paid.text)
            const data = (paid.json as { data: { preimage: string; fees_paid_msat: number } }).data
            assert.isTrue(Bolt11.preimageMatches(data.preimage, decoded.paymentHash))
            assert.strictEqual(data.fees_paid_msat, 0)
            yield* awaitBalance(95_000)
            assert.strictEqual(yield* network.balanceOf("user"), 5000)

            const again = yield* post("/invoices/pay", { invoice })
            assert.strictEqual(again.status, 502, again.text)
            const malformed = yield* post("/invoices/pay", { invoice: "lnbc1nope" })
            assert.strictEqual(malformed.status, 400, malformed.text)
            assert.match((malformed.json as { error: string }).error, /^invoice: /)
          })
        )
      })
    )

    it.scoped("a user that never answers: error timeout at content.expires_at", () =>
      Effect.gen(function* () {
        const { daemon, keys } = yield* startScene({ invoice: Invoices.ignoreAll }, { balances: { user: 0 } })
        const expiresAt = (yield* nowSeconds) + 3
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/invoices/request", {
              recipient_key: keys.publicKey,
              content: { amount: 5000, currency: "Millisats", expires_at: expiresAt }
            })
            const events = yield* awaitEvents(streamId, (events) => events.length > 0)
            assert.deepStrictEqual(
              events.map((e) => [e.type, e["reason"]]),
              [["error", "timeout"]]
            )
          })
        )
      })
    )
  })
})

describe("invoice response checks", () => {
  it.live("±1 msat is accepted; a larger difference, no amount or a malformed invoice is an error event", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { issuer: 0 } })
      const issuer = yield* network.wallet("issuer")
      const key = PublicKeyHex.make("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
      const response = (invoice: string, paymentHash: Option.Option<string>) => ({
        request: {
          inner: {
            requestId: "r",
            amount: Amount.make(5000),
            currency: Currency.millisats,
            currentExchangeRate: Option.none(),
            expiresAt: UnixSeconds.make(1),
            description: Option.none(),
            refundInvoice: Option.none()
          },
          mainKey: key,
          recipient: key
        },
        invoice,
        paymentHash
      })
      const invoice = yield* issuer.makeInvoice({ amountMsat: Msat.make(5001), description: "" })
      assert.deepStrictEqual(yield* InvoicesServer.check(response(invoice.bolt11, Option.none()), 5000), {
        type: "invoice_response",
        data: { invoice: invoice.bolt11, payment_hash: "" }
      })
      assert.deepStrictEqual(yield* InvoicesServer.check(response(invoice.bolt11, Option.some("h")), 4998), {
        type: "error",
        data: { reason: "Invoice amount mismatch: got 5001 msat, expected 4998 msat (diff: 3 msat)" }
      })
      const malformed = yield* InvoicesServer.check(response("lnbc1nope", Option.none()), 5000)
      assert.strictEqual(malformed.type, "error")
      assert.match(String(malformed.data["reason"]), /^Invalid invoice: /)
    })
  )
})
