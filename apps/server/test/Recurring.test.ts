/**
 * Recurring payments end to end (protocol.md §9): a user from `@portal/user` authorises a subscription on a
 * one-second calendar; the daemon bills every period with a linked single payment request that the user side pays
 * automatically; the daemon's own wallet (NWC over the loopback relay) is where the money shows. Closing from
 * either side stops billing; a user's close is a `closed_recurring_payment` on the fixed stream.
 *
 * Asserting that billing *stopped* needs a quiet period: the tests wait a few billing periods (1 s calendar,
 * 200 ms billing interval) and check that nothing more was paid.
 *
 * Every billed period is on the fixed `recurring-payment-billing` stream (its `requested`, then its outcome), also a
 * period still running when its subscription is closed (a subscriber that never answers, set up in the store file).
 *
 * The tests run concurrently (`describe.concurrent`): each has its own network, daemon, SQLite file and user on the
 * shared relay, and most of their time is spent waiting on deadlines and billing periods.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Store from "@portal/store/Store"
import * as Recurring from "@portal/user/Recurring"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { authed, sendJson } from "./HttpServerTest.js"
import {
  awaitBalance,
  awaitEvents,
  billedPeriods,
  confirmedSubscription,
  databaseFile,
  followEvents,
  poll,
  post,
  startDaemon,
  started,
  startNetwork,
  type SceneOptions,
  startScene,
  subscribe
} from "./PaymentsHarness.js"

/** A daemon (`daemon` options on top) and a user who authorises every subscription, with 1 000 000 msat. */
const subscriberScene = (daemon: SceneOptions["daemon"] = {}) =>
  startScene({ recurring: Recurring.authorizeAll }, { balances: { user: 1_000_000 }, daemon })

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

const everySecond = "*-*-* *:*:*"

const recurringRequest = (
  mainKey: string,
  recurrence: { calendar: string; first_payment_due: number; max_payments?: number },
  expiresAt: number
) => ({
  main_key: mainKey,
  subkeys: [],
  payment_request: { description: "Streaming", amount: 1000, currency: "Millisats", recurrence, expires_at: expiresAt }
})

const balance = sendJson(HttpClientRequest.get("/wallet/info").pipe(authed)).pipe(
  Effect.map((r) => (r.json as { data: { balance_msat: number } }).data.balance_msat)
)

/** Waits a few billing periods and checks the daemon's balance did not move. */
const staysAt = (msat: number) =>
  Effect.gen(function* () {
    yield* Effect.sleep("2500 millis")
    assert.strictEqual(yield* balance, msat)
  })

describe.concurrent("recurring payments", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("periods are billed when they fall due, not at the next look of a slow biller (1 h interval)", () =>
      Effect.gen(function* () {
        const { daemon, keys, user } = yield* subscriberScene({ billingInterval: "1 hour" })
        const now = yield* nowSeconds
        yield* daemon.http(
          Effect.gen(function* () {
            // the first period falls due two seconds after the subscription is confirmed
            yield* subscribe({
              mainKey: keys.publicKey,
              calendar: everySecond,
              firstDue: now + 2,
              maxPayments: 2,
              expiresAt: now + 60
            })
            // both periods within seconds (the test's own timeout is far below the biller's hour)
            yield* awaitBalance(2000)
            yield* staysAt(2000)
          })
        )
        assert.lengthOf(yield* user.subscriptions, 1)
      })
    )

    it.scoped("authorised, then three periods billed and paid (max_payments 3), then no more", () =>
      Effect.gen(function* () {
        const { network, daemon, keys, user } = yield* subscriberScene()
        const now = yield* nowSeconds
        yield* daemon.http(
          Effect.gen(function* () {
            // a merchant following the billing stream with SSE from before the subscription
            const followed = yield* Effect.fork(followEvents("recurring-payment-billing", 6))
            const streamId = yield* started(
              "/payments/recurring",
              recurringRequest(
                keys.publicKey,
                { calendar: everySecond, first_payment_due: now, max_payments: 3 },
                now + 60
              )
            )
            const events = yield* awaitEvents(streamId, (events) => events.length > 0)
            const subscriptionId = confirmedSubscription(events)
            const status = (events[0]!["status"] as { status: Record<string, unknown> }).status
            assert.deepStrictEqual(status["authorized_recurrence"], {
              calendar: everySecond,
              first_payment_due: String(now),
              until: null,
              max_payments: 3
            })
            yield* awaitBalance(3000)
            yield* staysAt(3000)
            // the fixed billing stream: per period its `requested`, then its outcome, each once, in that order
            const billing = yield* awaitEvents(
              "recurring-payment-billing",
              (events) => billedPeriods(events, subscriptionId).filter((p) => p.outcomes.length > 0).length >= 3
            )
            const periods = billedPeriods(billing, subscriptionId)
            assert.lengthOf(periods, 3, JSON.stringify(billing))
            for (const { outcomes, requested, streamId: periodStream } of periods) {
              assert.lengthOf(requested, 1)
              assert.lengthOf(outcomes, 1)
              assert.isBelow(requested[0]!.index, outcomes[0]!.index)
              assert.deepStrictEqual(
                { ...requested[0]!, index: 0, timestamp: "" },
                {
                  index: 0,
                  timestamp: "",
                  type: "payment_status_update",
                  status: { status: "requested", main_key: keys.publicKey, amount: 1000, currency: "Millisats" },
                  exchange_rate: null,
                  subscription_id: subscriptionId,
                  stream_id: periodStream
                }
              )
              // the outcome is the period stream's own last status, and that stream names the subscription too
              const own = yield* awaitEvents(periodStream, (events) => events.length > 0)
              const last = own[own.length - 1]!
              assert.deepStrictEqual(outcomes[0]!["status"], last["status"])
              assert.strictEqual((last["status"] as { status: string }).status, "paid")
              for (const event of own) {
                assert.strictEqual(event["subscription_id"], subscriptionId)
                assert.strictEqual(event["exchange_rate"], null)
              }
            }
            // nothing more is billed; followed live, the same events arrived (the stream stays open), also from `after`
            assert.deepStrictEqual(yield* poll("recurring-payment-billing"), billing)
            assert.lengthOf(billing, 6)
            assert.deepStrictEqual(yield* Fiber.join(followed).pipe(Effect.timeout("10 seconds")), billing)
            assert.deepStrictEqual(
              yield* followEvents("recurring-payment-billing", 3, billing[2]!.index).pipe(Effect.timeout("10 seconds")),
              billing.slice(3)
            )
            const [subscription] = yield* user.subscriptions
            assert.strictEqual(subscription!.subscriptionId, subscriptionId)
            assert.strictEqual(subscription!.paymentsMade, 3)
          })
        )
        assert.strictEqual(yield* network.balanceOf("user"), 997_000)
      })
    )

    it.scoped("the user closes: closed_recurring_payment on the fixed stream, billing stops", () =>
      Effect.gen(function* () {
        const { daemon, keys, user } = yield* subscriberScene()
        const now = yield* nowSeconds
        yield* daemon.http(
          Effect.gen(function* () {
            const before = (yield* poll("recurring-payment-close")).length
            const { subscriptionId } = yield* subscribe({
              mainKey: keys.publicKey,
              calendar: everySecond,
              firstDue: now,
              expiresAt: now + 60
            })
            yield* awaitBalance(1000)
            yield* user.closeSubscription(subscriptionId, "too many videos")
            const closes = yield* awaitEvents("recurring-payment-close", (events) => events.length > before)
            const close = closes[closes.length - 1]!
            assert.deepStrictEqual(
              { ...close, index: 0, timestamp: "" },
              {
                index: 0,
                timestamp: "",
                type: "closed_recurring_payment",
                reason: "too many videos",
                subscription_id: subscriptionId,
                recipient: keys.publicKey,
                main_key: keys.publicKey
              }
            )
            // a charge already in flight when the close landed may still settle; after that, nothing more
            const settled = yield* balance
            assert.isAtMost(settled, 2000)
            yield* staysAt(settled)
          })
        )
      })
    )

    it.scoped("closed while a period runs: that period's outcome still reaches the billing stream, once", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const { nwcUrl } = yield* startNetwork(relay.url, {})
        const file = yield* databaseFile
        // a subscriber whose wallet never answers: the billed period runs until its timeout
        const silent = (yield* Keys.generate).publicKey
        const now = yield* nowSeconds
        const storeLayer = Store.layerSqlite({ filename: file, retention: false })
        yield* Effect.flatMap(Store.Store, (store) =>
          store.putSubscription({
            id: "sub-closed-mid-period",
            mainKey: silent,
            amount: 1000,
            currency: "Millisats",
            recurrence: {
              calendar: "*-01-01 00:00:00",
              first_payment_due: String(now),
              until: null,
              max_payments: null
            },
            status: "active",
            paymentsMade: 0,
            nextDue: DateTime.unsafeMake(now * 1000),
            data: { subkeys: [], description: null, authToken: null, pending: null, failures: 0 }
          })
        ).pipe(Effect.provide(storeLayer))
        const daemon = yield* startDaemon({
          relay: relay.url,
          file,
          keys: yield* Keys.generate,
          nwcUrl,
          paymentTimeout: "3 seconds"
        })
        yield* daemon.http(
          Effect.gen(function* () {
            const requested = yield* awaitEvents(
              "recurring-payment-billing",
              (events) => billedPeriods(events, "sub-closed-mid-period").length > 0
            )
            const [period] = billedPeriods(requested, "sub-closed-mid-period")
            assert.deepStrictEqual(period!.outcomes, [])
            const closed = yield* post("/payments/recurring/close", {
              main_key: silent,
              subscription_id: "sub-closed-mid-period"
            })
            assert.strictEqual(closed.status, 200, JSON.stringify(closed.json))
            const billing = yield* awaitEvents("recurring-payment-billing", (events) =>
              billedPeriods(events, "sub-closed-mid-period").some((p) => p.outcomes.length > 0)
            )
            // a few more billing intervals: written once, and nothing else billed
            yield* Effect.sleep("1 second")
            const periods = billedPeriods(yield* poll("recurring-payment-billing"), "sub-closed-mid-period")
            assert.deepStrictEqual(
              periods.map((p) => [p.streamId, p.requested.length, p.outcomes.map((e) => e["status"])]),
              [[period!.streamId, 1, [{ status: "timeout" }]]],
              JSON.stringify(billing)
            )
          })
        )
        yield* daemon.stop
        // the note of the running period is gone once its outcome is written
        const notes = yield* Effect.flatMap(Store.Store, (store) =>
          store.listOperations("recurring_billing_outcome")
        ).pipe(Effect.provide(storeLayer))
        assert.deepStrictEqual(notes, [])
      })
    )

    it.scoped("the provider closes: the user's subscription is closed by the service, billing stops", () =>
      Effect.gen(function* () {
        const { daemon, keys, user } = yield* subscriberScene()
        const now = yield* nowSeconds
        yield* daemon.http(
          Effect.gen(function* () {
            const { subscriptionId } = yield* subscribe({
              mainKey: keys.publicKey,
              calendar: everySecond,
              firstDue: now,
              expiresAt: now + 60
            })
            yield* awaitBalance(1000)
            const closed = yield* post("/payments/recurring/close", {
              main_key: keys.publicKey,
              subkeys: [],
              subscription_id: subscriptionId
            })
            assert.deepStrictEqual(closed.json, { success: true, data: { message: "Recurring payment closed" } })
            const status = yield* user.subscriptions.pipe(
              Effect.map((all) => all.find((s) => s.subscriptionId === subscriptionId)?.status),
              Effect.filterOrFail(
                (s) => s?._tag === "Closed",
                () => "still active"
              ),
              Effect.retry(Schedule.spaced("50 millis")),
              Effect.timeout("10 seconds")
            )
            assert.deepStrictEqual(status?._tag === "Closed" ? status.by : undefined, "service")
            const settled = yield* balance
            assert.isAtMost(settled, 2000)
            yield* staysAt(settled)
          })
        )
      })
    )
  })
})
