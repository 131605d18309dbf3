import { assert, describe, it } from "@effect/vitest"
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import { Amount, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Payments from "@portal/user/Payments"
import * as Recurring from "@portal/user/Recurring"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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

const D = 86_400
const T0 = 20_000 * D // 2024-10-04 00:00:00 UTC, a midnight
const SERVICE = PublicKeyHex.make("a".repeat(64))
const OTHER = PublicKeyHex.make("b".repeat(64))

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

  it.scopedLive("manual answers: the stream delivers the request, respondRecurring authorises it once", () =>
    Effect.gen(function* () {
      const sides = yield* Sides.setup()
      const requests = yield* sides.user.subscribeRecurringRequests
      const service = yield* Effect.fork(
        Sides.requestRecurring(sides, { amount: 25_000, calendar: "monthly", maxPayments: 12 })
      )
      const request = Option.getOrThrow(yield* requests.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.strictEqual(request.serviceKey, sides.serviceKey)
      assert.strictEqual(request.amount, 25_000)
      assert.strictEqual(request.recurrence.calendar, "*-*-01 00:00:00")
      assert.strictEqual(Calendar.toHumanReadable(request.calendar), "Monthly")

      const sent = yield* sides.user.respondRecurring(request, Recurring.authorize)
      const subscription = Option.getOrThrow(sent.subscription)
      assert.strictEqual(subscription.amount, 25_000)
      assert.deepStrictEqual(subscription.recurrence.maxPayments, Option.some(12))
      assert.strictEqual(subscription.status._tag, "Active")
      const again = yield* Sides.outcome(sides.user.respondRecurring(request, Recurring.reject()))
      assert.strictEqual(again, "UserAlreadyAnswered")

      const { status } = yield* service
      assert.strictEqual(Sides.confirmedId(status), subscription.subscriptionId)
      assert.deepStrictEqual(
        (yield* sides.user.subscriptions).map((s) => s.subscriptionId),
        [subscription.subscriptionId]
      )
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

const base = (overrides: Partial<Recurring.Subscription> = {}) =>
  Effect.map(Calendar.parse("daily"), (calendar): Recurring.Subscription => ({
    subscriptionId: "sub-1",
    requestId: "req-1",
    serviceKey: SERVICE,
    amount: Amount.make(10_000),
    currency: Currency.millisats,
    recurrence: {
      calendar: Messages.NormalizedCalendar.make("*-*-* 00:00:00"),
      firstPaymentDue: UnixSeconds.make(T0),
      until: Option.none(),
      maxPayments: Option.none()
    },
    calendar,
    description: Option.none(),
    authorizedAt: 0,
    status: Recurring.SubscriptionStatus.Active(),
    paymentsMade: 0,
    lastPaymentAt: Option.none(),
    ...overrides
  }))
const charge = (amount = 10_000, serviceKey: PublicKeyHex = SERVICE) => ({
  serviceKey,
  amount: Amount.make(amount),
  currency: Currency.millisats,
  subscriptionId: Option.some("sub-1")
})
const reason = (result: Either.Either<Recurring.Subscription, string>) =>
  Either.match(result, { onLeft: (left) => left, onRight: () => "due" })

describe("checkCharge", () => {
  it.effect("the first charge is due at first_payment_due, later ones at the next occurrence after the last", () =>
    Effect.gen(function* () {
      const fresh = yield* base()
      assert.strictEqual(reason(Recurring.checkCharge(Option.some(fresh), charge(), T0 - 1)), NOT_DUE.slice(9))
      assert.strictEqual(reason(Recurring.checkCharge(Option.some(fresh), charge(), T0)), "due")
      // paid at 10:00 on day 1: the next daily occurrence is midnight of day 2, not the same instant again
      const paid = yield* base({ paymentsMade: 1, lastPaymentAt: Option.some(T0 + 36_000) })
      assert.deepStrictEqual(Recurring.nextDue(paid), Option.some(T0 + D))
      assert.strictEqual(reason(Recurring.checkCharge(Option.some(paid), charge(), T0 + D - 1)), NOT_DUE.slice(9))
      // late is fine (missed periods are not caught up)
      assert.strictEqual(reason(Recurring.checkCharge(Option.some(paid), charge(), T0 + 4 * D)), "due")
      const atMidnight = yield* base({ paymentsMade: 1, lastPaymentAt: Option.some(T0 + D) })
      assert.deepStrictEqual(Recurring.nextDue(atMidnight), Option.some(T0 + 2 * D))
    })
  )

  it.effect("refuses after until, at max_payments, once closed, for another amount, currency or key", () =>
    Effect.gen(function* () {
      const ended = yield* base({
        recurrence: { ...(yield* base()).recurrence, until: Option.some(UnixSeconds.make(T0 + 10)) }
      })
      assert.strictEqual(reason(Recurring.checkCharge(Option.some(ended), charge(), T0 + 5)), "due")
      assert.match(reason(Recurring.checkCharge(Option.some(ended), charge(), T0 + 11)), /ended at/)
      const maxed = yield* base({
        recurrence: { ...(yield* base()).recurrence, maxPayments: Option.some(2) },
        paymentsMade: 2,
        lastPaymentAt: Option.some(T0)
      })
      assert.match(reason(Recurring.checkCharge(Option.some(maxed), charge(), T0 + 8 * D)), /max_payments \(2\)/)
      const closed = yield* base({
        status: Recurring.SubscriptionStatus.Closed({ by: "user", at: T0, reason: Option.none() })
      })
      assert.match(reason(Recurring.checkCharge(Option.some(closed), charge(), T0 + D)), /closed by the user/)
      const fresh = yield* base()
      assert.match(reason(Recurring.checkCharge(Option.some(fresh), charge(10_001), T0 + D)), /does not match/)
      assert.match(
        reason(Recurring.checkCharge(Option.some(fresh), { ...charge(), currency: Currency.fiat("EUR") }, T0 + D)),
        /does not match/
      )
      assert.match(reason(Recurring.checkCharge(Option.some(fresh), charge(10_000, OTHER), T0 + D)), /not found/)
      assert.match(reason(Recurring.checkCharge(Option.none(), charge(), T0 + D)), /not found/)
    })
  )
})

describe("invoiceMatches", () => {
  it("1 % up to 10 000 000 msat, 0.5 % above", () => {
    assert.isTrue(Payments.invoiceMatches(101_000, 100_000))
    assert.isFalse(Payments.invoiceMatches(101_001, 100_000))
    assert.isTrue(Payments.invoiceMatches(99_000, 100_000))
    assert.isTrue(Payments.invoiceMatches(20_100_000, 20_000_000))
    assert.isFalse(Payments.invoiceMatches(20_100_001, 20_000_000))
  })
})
