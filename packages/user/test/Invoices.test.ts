import { assert, describe, it } from "@effect/vitest"
import * as Currency from "@portal/protocol/Currency"
import { UnixSeconds } from "@portal/protocol/Primitives"
import * as Invoices from "@portal/user/Invoices"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Sides from "./Sides.js"

describe("invoice requests", () => {
  it.scopedLive("issueAll answers with an invoice of the user's wallet for the amount, which the service can pay", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 0 })
      yield* sides.network.addWallet("payer", 1_000_000)
      yield* sides.user.listen({ invoice: Invoices.issueAll })

      const { reply, requestId } = yield* Sides.requestInvoice(sides, { amount: 42_000 })
      const response = reply.message
      assert.strictEqual(reply.author, sides.userKey)
      // the request is echoed, with the requester's key as main key and recipient
      assert.strictEqual(response.request.inner.requestId, requestId)
      assert.strictEqual(response.request.mainKey, sides.serviceKey)
      assert.strictEqual(response.request.recipient, sides.serviceKey)
      assert.deepStrictEqual(
        reply.event.tags.filter((tag) => tag[0] === "p").map((tag) => tag[1]),
        [sides.serviceKey]
      )
      const decoded = yield* Bolt11.decode(response.invoice)
      assert.strictEqual(decoded.amountMsat, 42_000)
      assert.strictEqual(decoded.description, "invoice for a refund")
      assert.deepStrictEqual(response.paymentHash, Option.some(decoded.paymentHash))

      // payable: a third wallet pays it and the user's wallet receives the money
      const payer = yield* sides.network.wallet("payer")
      const payment = yield* payer.payInvoice(response.invoice)
      assert.isTrue(Bolt11.preimageMatches(payment.preimage, decoded.paymentHash))
      assert.strictEqual(yield* sides.network.balanceOf("user"), 42_000)
      assert.strictEqual((yield* sides.userWallet.lookupInvoice(decoded.paymentHash)).state, "settled")
    })
  )

  it.scopedLive("a fiat request is invoiced at the msat the request's rate gives", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      yield* sides.user.listen({ invoice: Invoices.issueAll })
      const { reply } = yield* Sides.requestInvoice(sides, {
        amount: 1999,
        currency: Currency.fiat("USD"),
        rate: { rate: 50_000, source: "fixed", time: UnixSeconds.make(yield* Sides.nowSeconds) }
      })
      const decoded = yield* Bolt11.decode(reply.message.invoice)
      // the reference's f64 conversion: 19.99 / 50000 × 1e11 truncates to 39979999
      assert.strictEqual(decoded.amountMsat, 39_979_999)
    })
  )

  it.scopedLive("expired and rate-less fiat requests get no answer", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      yield* sides.user.listen({ invoice: Invoices.issueAll })
      const [expired, noRate] = yield* Effect.all(
        [
          Sides.outcome(Sides.requestInvoice(sides, { amount: 1000, expiresIn: -5, timeout: "2 seconds" })),
          Sides.outcome(
            Sides.requestInvoice(sides, { amount: 1000, currency: Currency.fiat("EUR"), timeout: "2 seconds" })
          )
        ],
        { concurrency: 2 }
      )
      assert.strictEqual(expired, "ConversationTimeout")
      assert.strictEqual(noRate, "ConversationTimeout")
    })
  )

  it.scopedLive("manual answers: respondInvoice issues once; without a wallet it fails with UserWalletFailed", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      const requests = yield* sides.user.subscribeInvoiceRequests
      const service = yield* Effect.fork(Sides.requestInvoice(sides, { amount: 5_000 }))
      const request = Option.getOrThrow(yield* requests.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.strictEqual(request.amountMsat, 5_000)
      assert.strictEqual(request.requester, sides.serviceKey)
      const sent = yield* sides.user.respondInvoice(request, Invoices.issue({ description: "custom" }))
      assert.strictEqual(sent.invoice.amountMsat, 5_000)
      assert.strictEqual(sent.invoice.description, "custom")
      const again = yield* Sides.outcome(sides.user.respondInvoice(request, Invoices.issue()))
      assert.strictEqual(again, "UserAlreadyAnswered")
      const { reply } = yield* service
      assert.strictEqual(reply.message.invoice, sent.invoice.bolt11)

      const bare = yield* Sides.setup({ withWallet: false })
      const bareRequests = yield* bare.user.subscribeInvoiceRequests
      yield* Effect.fork(Sides.requestInvoice(bare, { amount: 5_000, timeout: "2 seconds" }).pipe(Effect.ignore))
      const bareRequest = Option.getOrThrow(yield* bareRequests.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      const failed = yield* Sides.outcome(bare.user.respondInvoice(bareRequest, Invoices.issue()))
      assert.strictEqual(failed, "UserWalletFailed(NoWallet)")
    })
  )
})
