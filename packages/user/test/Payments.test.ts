import { assert, describe, it } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Currency from "@portal/protocol/Currency"
import { UnixSeconds } from "@portal/protocol/Primitives"
import * as TestRelay from "@portal/testing/TestRelay"
import * as User from "@portal/user/User"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Payments from "@portal/user/Payments"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Sides from "./Sides.js"

/** A policy that records what it was asked. */
const recording = (decide: Payments.PaymentPolicy) =>
  Effect.map(Ref.make<ReadonlyArray<Payments.PaymentRequest>>([]), (seen) => ({
    seen,
    policy: (request: Payments.PaymentRequest) =>
      Effect.zipRight(
        Ref.update(seen, (all) => [...all, request]),
        decide(request)
      )
  }))

describe("single payments", () => {
  it.scopedLive("approved: approved, then paid with a preimage that hashes to the invoice's payment hash", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      const { policy, seen } = yield* recording(Payments.approveAll)
      yield* sides.user.listen({ payment: policy })

      const { invoice, requestId, statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000 })
      assert.deepStrictEqual(Sides.describe(statuses), ["approved", "success"])
      const preimage = Sides.preimageOf(statuses)
      assert.isDefined(preimage)
      assert.isTrue(Bolt11.preimageMatches(preimage ?? "", invoice.paymentHash))
      // the shop's own wallet sees its invoice settled, and the money moved
      const settled = yield* sides.shopWallet.lookupInvoice(invoice.paymentHash)
      assert.strictEqual(settled.state, "settled")
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 21_000)
      assert.strictEqual(yield* sides.network.balanceOf("user"), 1_000_000 - 21_000)

      const asked = yield* Ref.get(seen)
      assert.strictEqual(asked.length, 1)
      assert.strictEqual(asked[0]?.requestId, requestId)
      assert.strictEqual(asked[0]?.serviceKey, sides.serviceKey)
      assert.strictEqual(asked[0]?.amountMsat, 21_000)
      assert.strictEqual(asked[0]?.invoice.paymentHash, invoice.paymentHash)
    })
  )

  it.scopedLive("with an NWC wallet: the user pays over NIP-47 and the preimage matches the invoice", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000, nwc: true })
      yield* sides.user.listen({ payment: Payments.approveAll })
      const { invoice, statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000, timeout: "15 seconds" })
      assert.deepStrictEqual(Sides.describe(statuses), ["approved", "success"])
      assert.isTrue(Bolt11.preimageMatches(Sides.preimageOf(statuses) ?? "", invoice.paymentHash))
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 21_000)
    })
  )

  it.scopedLive("rejected: rejected with the app's reason, nothing paid", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      yield* sides.user.listen({ payment: Payments.rejectAll() })
      const { invoice, statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000 })
      assert.deepStrictEqual(Sides.describe(statuses), ["rejected:User rejected"])
      assert.strictEqual((yield* sides.shopWallet.lookupInvoice(invoice.paymentHash)).state, "pending")
      assert.strictEqual(yield* sides.network.balanceOf("user"), 1_000_000)
    })
  )

  it.scopedLive("out of funds: approved, then failed with the wallet's reason", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 5_000 })
      yield* sides.user.listen({ payment: Payments.approveAll })
      const { invoice, statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000 })
      const described = Sides.describe(statuses)
      assert.strictEqual(described.length, 2)
      assert.strictEqual(described[0], "approved")
      assert.match(described[1] ?? "", /^failed:Payment failed: .*insufficient balance/)
      assert.strictEqual((yield* sides.shopWallet.lookupInvoice(invoice.paymentHash)).state, "pending")
      assert.strictEqual(yield* sides.network.balanceOf("user"), 5_000)
    })
  )

  it.scopedLive("a user side without a wallet answers failed", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ withWallet: false })
      yield* sides.user.listen({ payment: Payments.approveAll })
      const { statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000 })
      assert.deepStrictEqual(Sides.describe(statuses), ["failed:Payment failed: no wallet provided"])
    })
  )

  it.scopedLive("the fail policy answers failed without paying", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      yield* sides.user.listen({ payment: Payments.failAll("card declined") })
      const { statuses } = yield* Sides.requestPayment(sides, { amountMsat: 21_000 })
      assert.deepStrictEqual(Sides.describe(statuses), ["failed:card declined"])
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 0)
    })
  )

  it.scopedLive("approveUpTo pays up to the limit and rejects above it", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      yield* sides.user.listen({ payment: Payments.approveUpTo(50_000) })
      const small = yield* Sides.requestPayment(sides, { amountMsat: 50_000 })
      assert.deepStrictEqual(Sides.describe(small.statuses), ["approved", "success"])
      const large = yield* Sides.requestPayment(sides, { amountMsat: 50_001 })
      assert.deepStrictEqual(Sides.describe(large.statuses), ["rejected:Amount above the user's limit"])
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 50_000)
    })
  )

  it.scopedLive("an invoice that does not match the amount is rejected before any policy sees it", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      const { policy, seen } = yield* recording(Payments.approveAll)
      yield* sides.user.listen({ payment: policy })
      // 2 % more than requested: above the app's 1 % tolerance
      const { statuses } = yield* Sides.requestPayment(sides, { amountMsat: 100_000, invoiceMsat: 102_000 })
      const described = Sides.describe(statuses)
      assert.strictEqual(described.length, 1)
      assert.match(described[0] ?? "", /^rejected:Invoice amount does not match/)
      assert.strictEqual((yield* Ref.get(seen)).length, 0)
      // within 1 %: paid
      const close = yield* Sides.requestPayment(sides, { amountMsat: 100_000, invoiceMsat: 100_900 })
      assert.deepStrictEqual(Sides.describe(close.statuses), ["approved", "success"])
    })
  )

  it.scopedLive("an expired request reaches no policy and gets no answer", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      const { policy, seen } = yield* recording(Payments.approveAll)
      yield* sides.user.listen({ payment: policy })
      const ended = yield* Sides.outcome(
        Sides.requestPayment(sides, { amountMsat: 21_000, expiresIn: -5, timeout: "2 seconds" })
      )
      assert.strictEqual(ended, "ConversationTimeout")
      assert.strictEqual((yield* Ref.get(seen)).length, 0)
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 0)
    })
  )

  it.scopedLive("ignoreAll sends nothing: the service times out and nothing is paid", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      const { policy, seen } = yield* recording(Payments.ignoreAll)
      yield* sides.user.listen({ payment: policy })
      const ended = yield* Sides.outcome(Sides.requestPayment(sides, { amountMsat: 21_000, timeout: "2 seconds" }))
      assert.strictEqual(ended, "ConversationTimeout")
      assert.strictEqual((yield* Ref.get(seen)).length, 1)
      assert.strictEqual(
        (yield* sides.relay.received).filter((frame) => Reflect.get(Object(frame), "kind") === 28001).length,
        0
      )
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 0)
    })
  )

  it.scopedLive("manual answers: the stream delivers the request, respondPayment pays it once", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      const requests = yield* sides.user.subscribePaymentRequests
      const service = yield* Effect.fork(Sides.requestPayment(sides, { amountMsat: 30_000 }))
      const request = Option.getOrThrow(yield* requests.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.strictEqual(request.amountMsat, 30_000)
      assert.isTrue(Option.isNone(request.subscriptionId))

      const paid = yield* sides.user.respondPayment(request, Payments.approve)
      assert.strictEqual(paid._tag, "Paid")
      if (paid._tag === "Paid") {
        assert.strictEqual(paid.payment.paymentHash, request.invoice.paymentHash)
        assert.isTrue(Bolt11.preimageMatches(paid.payment.preimage, request.invoice.paymentHash))
      }
      const again = yield* Sides.outcome(sides.user.respondPayment(request, Payments.reject()))
      assert.strictEqual(again, "UserAlreadyAnswered")

      const { statuses } = yield* service
      assert.deepStrictEqual(Sides.describe(statuses), ["approved", "success"])
    })
  )

  it.scopedLive("fiat: the amount is converted with the request's rate and the matching invoice is paid", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 100_000_000 })
      const { policy, seen } = yield* recording(Payments.approveAll)
      yield* sides.user.listen({ payment: policy })
      // 1.00 EUR at 50 000 EUR/BTC = 2000 sat = 2 000 000 msat
      const { statuses } = yield* Sides.requestPayment(sides, {
        amountMsat: 100,
        invoiceMsat: 2_000_000,
        currency: Currency.fiat("EUR"),
        rate: { rate: 50_000, source: "fixed", time: UnixSeconds.make(yield* Sides.nowSeconds) }
      })
      assert.deepStrictEqual(Sides.describe(statuses), ["approved", "success"])
      assert.strictEqual((yield* Ref.get(seen))[0]?.amountMsat, 2_000_000)
    })
  )
})

describe("layers", () => {
  it.scopedLive("layerWithWallet pays with the Wallet from the context", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { alice: 7_000 } })
      const keys = yield* Keys.generate
      const pool = yield* Sides.openPool([relay.url])
      const context = yield* Layer.build(
        User.layerWithWallet().pipe(
          Layer.provide(
            Layer.mergeAll(
              Signer.layerLocalKeys(keys),
              Jwt.layer(keys),
              Layer.succeed(RelayPool.RelayPool, pool),
              SimulatedLightning.layerSimulated(network, "alice")
            )
          )
        )
      )
      const user = yield* Effect.provide(User.User, context)
      assert.strictEqual(yield* Option.getOrThrow(user.wallet).balance, 7_000)
    })
  )
})
