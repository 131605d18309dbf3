import { assert, describe, it } from "@effect/vitest"
import * as Messages from "@portal/protocol/Messages"
import * as Payments from "@portal/user/Payments"
import * as Recurring from "@portal/user/Recurring"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Sides from "./Sides.js"

/** A payment policy that records what it was asked and rejects. */
const recordingReject = Effect.map(Ref.make(0), (asked) => ({
  asked,
  policy: (_: Payments.PaymentRequest) =>
    Effect.as(
      Ref.update(asked, (n) => n + 1),
      Payments.reject()
    )
}))

const NOT_DUE = "rejected:Payment is not due yet. Please wait till the next payment is scheduled."

describe("recurring payments", () => {
  it.scopedLive("authorised, then each billed period is paid without asking, up to max_payments", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      const { asked, policy } = yield* recordingReject
      yield* sides.user.listen({ recurring: Recurring.authorizeAll, payment: policy })

      const { requestId, status } = yield* Sides.requestRecurring(sides, { amount: 10_000, maxPayments: 3 })
      const subscriptionId = Sides.confirmedId(status)
      assert.match(subscriptionId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      if (status._tag !== "Confirmed") return
      // the app's answer echoes the request
      assert.strictEqual(status.authorizedAmount, 10_000)
      assert.deepStrictEqual(status.authorizedRecurrence.calendar, Messages.NormalizedCalendar.make("*-*-* *:*:*"))
      assert.deepStrictEqual(status.authorizedRecurrence.maxPayments, Option.some(3))
      const kept = yield* sides.user.subscriptions
      assert.strictEqual(kept.length, 1)
      assert.strictEqual(kept[0]?.subscriptionId, subscriptionId)
      assert.strictEqual(kept[0]?.requestId, requestId)
      assert.strictEqual(kept[0]?.serviceKey, sides.serviceKey)

      for (let period = 1; period <= 3; period++) {
        const billed = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId })
        assert.deepStrictEqual(Sides.describe(billed.statuses), ["approved", "success"], `period ${period}`)
        assert.isTrue(Bolt11.preimageMatches(Sides.preimageOf(billed.statuses) ?? "", billed.invoice.paymentHash))
        yield* Sides.nextSecond
      }
      const fourth = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId })
      assert.deepStrictEqual(Sides.describe(fourth.statuses), [
        `rejected:Subscription with ID ${subscriptionId} reached its max_payments (3)`
      ])
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 30_000)
      const after = yield* sides.user.subscriptions
      assert.strictEqual(after[0]?.paymentsMade, 3)
      assert.strictEqual(yield* Ref.get(asked), 0) // billed periods never reach the payment policy
    })
  )

  it.scopedLive("a billed period over the authorised amount, too early, or for an unknown id is refused", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      yield* sides.user.listen({ recurring: Recurring.authorizeAll })

      const later = Sides.confirmedId(
        (yield* Sides.requestRecurring(sides, { amount: 10_000, calendar: "yearly", firstDueIn: 3600 })).status
      )
      const early = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: later })
      assert.deepStrictEqual(Sides.describe(early.statuses), [NOT_DUE])

      const now = Sides.confirmedId(
        (yield* Sides.requestRecurring(sides, { amount: 10_000, calendar: "yearly" })).status
      )
      const over = yield* Sides.requestPayment(sides, { amountMsat: 10_001, subscriptionId: now })
      assert.match(
        Sides.describe(over.statuses)[0] ?? "",
        /^rejected:Payment amount does not match subscription amount/
      )
      const under = yield* Sides.requestPayment(sides, { amountMsat: 9_999, subscriptionId: now })
      assert.match(Sides.describe(under.statuses)[0] ?? "", /^rejected:Payment amount does not match/)

      const first = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: now })
      assert.deepStrictEqual(Sides.describe(first.statuses), ["approved", "success"])
      // the next occurrence of a yearly calendar is months away: a second charge in the period is refused
      const twice = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: now })
      assert.deepStrictEqual(Sides.describe(twice.statuses), [NOT_DUE])

      const unknown = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: "no-such-id" })
      assert.deepStrictEqual(Sides.describe(unknown.statuses), [
        "rejected:Subscription with ID no-such-id not found in database"
      ])
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 10_000)
    })
  )

  it.scopedLive("a billed period the wallet cannot cover is refused with the app's reason", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 10_000 })
      yield* sides.user.listen({ recurring: Recurring.authorizeAll })
      const id = Sides.confirmedId((yield* Sides.requestRecurring(sides, { amount: 10_000 })).status)
      // the app wants a balance strictly above the amount
      const billed = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: id })
      assert.deepStrictEqual(Sides.describe(billed.statuses), [`rejected:${Recurring.INSUFFICIENT_BALANCE_REASON}`])
    })
  )

  it.scopedLive("rejectAll answers rejected and keeps nothing", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      yield* sides.user.listen({ recurring: Recurring.rejectAll() })
      const { status } = yield* Sides.requestRecurring(sides, { amount: 10_000 })
      assert.deepStrictEqual(status, { _tag: "Rejected", reason: Option.some("User rejected") })
      assert.strictEqual((yield* sides.user.subscriptions).length, 0)
    })
  )

  it.scopedLive("closed by the service: recorded, and billing is refused after", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      yield* sides.user.listen({ recurring: Recurring.authorizeAll })
      const id = Sides.confirmedId((yield* Sides.requestRecurring(sides, { amount: 10_000 })).status)
      const notices = yield* sides.user.subscribeCloseNotices

      // a close from another key changes nothing; the service's own closes the subscription
      const stranger = yield* Sides.setup({ relay: sides.relay })
      yield* Sides.serviceClose({ ...stranger, userKey: sides.userKey }, id)
      yield* Sides.serviceClose(sides, id)
      const received = yield* notices.pipe(Stream.take(2), Stream.runCollect, Effect.timeout("5 seconds"))
      const bySender = new Map([...received].map((notice) => [notice.sender, notice]))
      assert.strictEqual(bySender.get(stranger.serviceKey)?.closed, false)
      const notice = bySender.get(sides.serviceKey)
      assert.strictEqual(notice?.subscriptionId, id)
      assert.strictEqual(notice?.byService, true)
      assert.strictEqual(notice?.closed, true)
      const closed = yield* Sides.awaitSubscription(sides, id, (s) => s.status._tag === "Closed")
      assert.deepStrictEqual(closed?.status._tag === "Closed" ? closed.status.by : undefined, "service")

      const billed = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: id })
      assert.deepStrictEqual(Sides.describe(billed.statuses), [
        `rejected:Subscription with ID ${id} was closed by the service`
      ])
      assert.strictEqual(yield* sides.network.balanceOf("shop"), 0)
    })
  )

  it.scopedLive("closed by the user: the service gets a 28007 with by_service false, and billing is refused", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      yield* sides.user.listen({ recurring: Recurring.authorizeAll })
      const id = Sides.confirmedId((yield* Sides.requestRecurring(sides, { amount: 10_000 })).status)

      const subscription = yield* sides.servicePool.subscription([{ kinds: [28007], "#p": [sides.serviceKey] }])
      yield* subscription.eose.pipe(Effect.timeout("5 seconds"))
      yield* sides.user.closeSubscription(id, "too expensive")
      const event = Option.getOrThrow(yield* subscription.events.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.strictEqual(event.pubkey, sides.userKey)
      assert.deepStrictEqual(event.tags, [["p", sides.serviceKey]])
      const content = yield* sides.serviceSigner
        .nip44Decrypt(event.pubkey, event.content)
        .pipe(Effect.flatMap((text) => Messages.decodeContent(Messages.CloseRecurringPaymentContent, text)))
      assert.deepStrictEqual(content, { subscriptionId: id, reason: Option.some("too expensive"), byService: false })

      const billed = yield* Sides.requestPayment(sides, { amountMsat: 10_000, subscriptionId: id })
      assert.deepStrictEqual(Sides.describe(billed.statuses), [
        `rejected:Subscription with ID ${id} was closed by the user`
      ])
      const missing = yield* Sides.outcome(sides.user.closeSubscription("no-such-id"))
      assert.strictEqual(missing, "UserSubscriptionNotFound")
    })
  )

  it.scopedLive("a billed period from another key than the authorised service is refused", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup({ userBalance: 1_000_000 })
      yield* sides.user.listen({ recurring: Recurring.authorizeAll })
      const id = Sides.confirmedId((yield* Sides.requestRecurring(sides, { amount: 10_000 })).status)
      const impostor = yield* Sides.setup({ relay: sides.relay })
      const billed = yield* Sides.requestPayment(
        { ...impostor, userKey: sides.userKey },
        { amountMsat: 10_000, subscriptionId: id }
      )
      assert.deepStrictEqual(Sides.describe(billed.statuses), [
        `rejected:Subscription with ID ${id} not found in database`
      ])
    })
  )
})
