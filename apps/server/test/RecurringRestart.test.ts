/**
 * Subscriptions across daemon restarts (in-process: the daemon's scope is closed and a new daemon starts on the same
 * SQLite file with the same key). A pending subscription request is answered after a restart without being sent
 * again. A period that fell due while the daemon was down is billed once when it starts;
 * another restart does not bill it again. The calendar is yearly (`*-01-01 00:00:00`), so after the first charge
 * nothing else is due during the test. A period reserved just before a stop (the state written into the stopped
 * daemon's file) is sent on start, and appears on the `recurring-payment-billing` stream once.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Store from "@portal/store/Store"
import * as Recurring from "@portal/user/Recurring"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { randomUUID } from "node:crypto"
import { authed, sendJson } from "./HttpServerTest.js"
import {
  awaitBalance,
  awaitEvents,
  awaitRecordedSent,
  billedPeriods,
  type Daemon,
  poll,
  started,
  startRestartable,
  subscribe
} from "./PaymentsHarness.js"

const nowMillis = Clock.currentTimeMillis

const balance = sendJson(HttpClientRequest.get("/wallet/info").pipe(authed)).pipe(
  Effect.map((r) => (r.json as { data: { balance_msat: number } }).data.balance_msat)
)

/** How long after the subscription its first period falls due: the first daemon has stopped by then, even loaded. */
const dueAfterSeconds = 12

/**
 * On `first`, a subscription on a yearly calendar whose first period falls due at `due` (epoch seconds), confirmed
 * and unpaid; then `first` stops, before that period falls due (a daemon still running then would bill it itself).
 */
const subscribeThenStop = (first: Daemon, mainKey: string, due: number) =>
  Effect.gen(function* () {
    const subscriptionId = yield* first.http(
      Effect.gen(function* () {
        const { subscriptionId } = yield* subscribe({
          mainKey,
          calendar: "*-01-01 00:00:00",
          firstDue: due,
          expiresAt: due + 60
        })
        assert.strictEqual(yield* balance, 0)
        return subscriptionId
      })
    )
    yield* first.stop
    assert.isBelow(yield* nowMillis, due * 1000, "the first daemon must stop before the period falls due")
    return subscriptionId
  })

/**
 * A subscription authorised on a yearly calendar (`subscribeThenStop`), then the daemon stopped in the state it
 * leaves when it stops right after reserving that period (and, with `requestedWritten`, after writing its `requested`
 * event too); the next daemon, started once it is due, sends that period.
 */
const reservedBeforeStop = (requestedWritten: boolean) =>
  Effect.gen(function* () {
    const { file, userKeys, daemon } = yield* startRestartable({
      recurring: Recurring.authorizeAll
    })
    const due = Math.floor((yield* nowMillis) / 1000) + dueAfterSeconds
    const first = yield* daemon({ billingInterval: "1 hour" })
    const subscriptionId = yield* subscribeThenStop(first, userKeys.publicKey, due)

    const period = randomUUID()
    yield* Effect.gen(function* () {
      const store = yield* Store.Store
      const subscription = Option.getOrThrow(yield* store.getSubscription(subscriptionId))
      assert.deepStrictEqual(subscription.nextDue, Option.some(DateTime.unsafeMake(due * 1000)))
      yield* store.putSubscription({
        ...subscription,
        nextDue: Option.getOrUndefined(subscription.nextDue),
        data: { ...(subscription.data as object), pending: period }
      })
      if (requestedWritten) {
        yield* store.append("recurring-payment-billing", {
          type: "payment_status_update",
          data: {
            status: { status: "requested", main_key: userKeys.publicKey, amount: 1000, currency: "Millisats" },
            exchange_rate: null,
            subscription_id: subscriptionId,
            stream_id: period
          }
        })
      }
    }).pipe((effect) => onFile(file, effect))
    // the user side pays a period only once it is due
    yield* Effect.sleep(Math.max(0, (due + 1) * 1000 - (yield* nowMillis)))

    const second = yield* daemon()
    yield* second.http(
      Effect.gen(function* () {
        yield* awaitBalance(1000)
        const billing = yield* awaitEvents("recurring-payment-billing", (events) =>
          billedPeriods(events, subscriptionId).some((p) => p.outcomes.length > 0)
        )
        // the reserved stream id is the one billed; one `requested`, one outcome
        const periods = billedPeriods(billing, subscriptionId)
        assert.deepStrictEqual(
          periods.map((p) => [
            p.streamId,
            p.requested.length,
            p.outcomes.map((e) => (e["status"] as { status: string }).status)
          ]),
          [[period, 1, ["paid"]]],
          JSON.stringify(billing)
        )
        const own = yield* poll(period)
        assert.strictEqual(own[own.length - 1]!["subscription_id"], subscriptionId)
      })
    )
  })

/** Runs `effect` on the stopped daemon's SQLite file. */
const onFile = <A, E>(file: string, effect: Effect.Effect<A, E, Store.Store>) =>
  effect.pipe(Effect.provide(Store.layerSqlite({ filename: file, retention: false })))

describe("recurring billing across restarts", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("a period due while the daemon was down is billed once on start, and not again after a restart", () =>
      Effect.gen(function* () {
        const { network, userKeys, user, daemon } = yield* startRestartable({
          recurring: Recurring.authorizeAll
        })
        const due = Math.floor((yield* nowMillis) / 1000) + dueAfterSeconds
        const subscriptionId = yield* subscribeThenStop(yield* daemon(), userKeys.publicKey, due)

        // the first period falls due while no daemon runs
        yield* Effect.sleep(Math.max(0, (due + 1) * 1000 - (yield* nowMillis)))
        assert.strictEqual(yield* network.balanceOf("daemon"), 0)

        const second = yield* daemon()
        yield* second.http(awaitBalance(1000))
        yield* second.stop

        const third = yield* daemon()
        yield* third.http(
          Effect.gen(function* () {
            // several billing intervals (200 ms) pass: the paid period is not billed again
            yield* Effect.sleep("2 seconds")
            assert.strictEqual(yield* balance, 1000)
            // the billing stream, across the restarts: the one period, requested once and paid once
            const periods = billedPeriods(yield* poll("recurring-payment-billing"), subscriptionId)
            assert.lengthOf(periods, 1, JSON.stringify(periods))
            assert.lengthOf(periods[0]!.requested, 1)
            assert.deepStrictEqual(
              periods[0]!.outcomes.map((e) => (e["status"] as { status: string }).status),
              ["paid"]
            )
          })
        )
        const [subscription] = yield* user.subscriptions
        assert.strictEqual(subscription!.paymentsMade, 1)
      })
    )
    it.scoped("a period reserved before a stop, its requested not yet written: written once, then the outcome", () =>
      reservedBeforeStop(false)
    )
    it.scoped("a period reserved before a stop, its requested already written: not written again", () =>
      reservedBeforeStop(true)
    )
    it.scoped(
      "stopped after a period's outcome was written but before it was counted: counted once, written once",
      () =>
        Effect.gen(function* () {
          const { file, userKeys, daemon } = yield* startRestartable({
            recurring: Recurring.authorizeAll
          })
          const due = Math.floor((yield* nowMillis) / 1000) + 1
          const first = yield* daemon()
          const [subscriptionId, period] = yield* first.http(
            Effect.gen(function* () {
              const { subscriptionId: id } = yield* subscribe({
                mainKey: userKeys.publicKey,
                calendar: "*-01-01 00:00:00",
                firstDue: due,
                expiresAt: due + 60
              })
              const billing = yield* awaitEvents("recurring-payment-billing", (events) =>
                billedPeriods(events, id).some((p) => p.outcomes.length > 0)
              )
              return [id, billedPeriods(billing, id)[0]!.streamId] as const
            })
          )
          yield* first.stop
          // back to the state between writing the outcome and counting the period
          yield* onFile(
            file,
            Effect.gen(function* () {
              const store = yield* Store.Store
              const subscription = Option.getOrThrow(yield* store.getSubscription(subscriptionId))
              yield* store.putSubscription({
                ...subscription,
                paymentsMade: 0,
                nextDue: DateTime.unsafeMake(due * 1000),
                data: { ...(subscription.data as object), pending: period, reporting: period }
              })
            })
          )
          const second = yield* daemon()
          yield* second.http(
            Effect.gen(function* () {
              // several billing intervals (200 ms) pass
              yield* Effect.sleep("1500 millis")
              assert.strictEqual(yield* balance, 1000)
              const periods = billedPeriods(yield* poll("recurring-payment-billing"), subscriptionId)
              assert.deepStrictEqual(
                periods.map((p) => [p.streamId, p.requested.length, p.outcomes.length]),
                [[period, 1, 1]]
              )
            })
          )
          yield* second.stop
          const subscription = yield* onFile(
            file,
            Effect.flatMap(Store.Store, (store) => store.getSubscription(subscriptionId))
          )
          const stored = Option.getOrThrow(subscription)
          assert.strictEqual(stored.paymentsMade, 1)
          assert.strictEqual((stored.data as { pending: string | null }).pending, null)
          assert.isTrue(Option.exists(stored.nextDue, (next) => DateTime.toEpochMillis(next) > due * 1000))
        })
    )
    it.scoped("a subscription request answered only after a restart: not sent again, the answer lands", () =>
      Effect.gen(function* () {
        const asked = yield* Ref.make(0)
        const release = yield* Deferred.make<void>()
        const { userKeys, daemon } = yield* startRestartable({
          recurring: () =>
            Ref.update(asked, (n) => n + 1).pipe(
              Effect.zipRight(Deferred.await(release)),
              Effect.as(Recurring.authorize)
            )
        })
        const now = Math.floor((yield* nowMillis) / 1000)
        const first = yield* daemon()
        const streamId = yield* first.http(
          started("/payments/recurring", {
            main_key: userKeys.publicKey,
            payment_request: {
              amount: 1000,
              currency: "Millisats",
              recurrence: { calendar: "*-01-01 00:00:00", first_payment_due: now + 3600 },
              expires_at: now + 60
            }
          })
        )
        yield* Ref.get(asked).pipe(
          Effect.filterOrFail(
            (n) => n > 0,
            () => "not yet"
          ),
          Effect.retry(Schedule.spaced("20 millis")),
          Effect.timeout("20 seconds")
        )
        yield* awaitRecordedSent(first.store, "recurring_payment", streamId)
        yield* first.stop
        const second = yield* daemon()
        yield* Deferred.succeed(release, undefined)
        const [response, ...rest] = yield* second.http(awaitEvents(streamId, (events) => events.length > 0))
        assert.deepStrictEqual(rest, [])
        assert.strictEqual(response!.type, "recurring_payment_response", JSON.stringify(response))
        assert.strictEqual((response!["status"] as { status: { status: string } }).status.status, "confirmed")
        assert.strictEqual(yield* Ref.get(asked), 1)
      })
    )
  })
})
