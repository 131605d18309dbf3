/**
 * Subscriptions across daemon restarts (in-process: the daemon's scope is closed and a new daemon starts on the same
 * SQLite file with the same key). A pending subscription request is answered after a restart without being sent
 * again. A period that fell due while the daemon was down is billed once when it starts;
 * another restart does not bill it again. The calendar is yearly (`*-01-01 00:00:00`), so after the first charge
 * nothing else is due during the test.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Recurring from "@portal/user/Recurring"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { authed, sendJson } from "./HttpServerTest.js"
import {
  awaitBalance,
  awaitEvents,
  billedPeriods,
  databaseFile,
  poll,
  startDaemon,
  started,
  startNetwork,
  startUser
} from "./PaymentsHarness.js"

const nowMillis = Clock.currentTimeMillis

const balance = sendJson(HttpClientRequest.get("/wallet/info").pipe(authed)).pipe(
  Effect.map((r) => (r.json as { data: { balance_msat: number } }).data.balance_msat)
)

describe("recurring billing across restarts", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("a period due while the daemon was down is billed once on start, and not again after a restart", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const { network, nwcUrl } = yield* startNetwork(relay.url, { user: 1_000_000 })
        const file = yield* databaseFile
        const keys = yield* Keys.generate
        const { keys: userKeys, user } = yield* startUser(relay.url, yield* network.wallet("user"), {
          recurring: Recurring.authorizeAll
        })
        const start = yield* nowMillis
        const due = Math.floor(start / 1000) + 2

        const first = yield* startDaemon({ relay: relay.url, file, keys, nwcUrl })
        const subscriptionId = yield* first.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/recurring", {
              main_key: userKeys.publicKey,
              payment_request: {
                amount: 1000,
                currency: "Millisats",
                recurrence: { calendar: "*-01-01 00:00:00", first_payment_due: due },
                expires_at: due + 60
              }
            })
            const [response] = yield* awaitEvents(streamId, (events) => events.length > 0)
            assert.strictEqual(
              (response!["status"] as { status: { status: string } }).status.status,
              "confirmed",
              JSON.stringify(response)
            )
            assert.strictEqual(yield* balance, 0)
            return (response!["status"] as { status: { subscription_id: string } }).status.subscription_id
          })
        )
        yield* first.stop

        // the first period falls due while no daemon runs
        yield* Effect.sleep(Math.max(0, (due + 1) * 1000 - (yield* nowMillis)))
        assert.strictEqual(yield* network.balanceOf("daemon"), 0)

        const second = yield* startDaemon({ relay: relay.url, file, keys, nwcUrl })
        yield* second.http(awaitBalance(1000))
        yield* second.stop

        const third = yield* startDaemon({ relay: relay.url, file, keys, nwcUrl })
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
    it.scoped("a subscription request answered only after a restart: not sent again, the answer lands", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const { network, nwcUrl } = yield* startNetwork(relay.url, { user: 1_000_000 })
        const file = yield* databaseFile
        const keys = yield* Keys.generate
        const asked = yield* Ref.make(0)
        const release = yield* Deferred.make<void>()
        const { keys: userKeys } = yield* startUser(relay.url, yield* network.wallet("user"), {
          recurring: () =>
            Ref.update(asked, (n) => n + 1).pipe(
              Effect.zipRight(Deferred.await(release)),
              Effect.as(Recurring.authorize)
            )
        })
        const now = Math.floor((yield* nowMillis) / 1000)
        const first = yield* startDaemon({ relay: relay.url, file, keys, nwcUrl })
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
        yield* first.stop
        const second = yield* startDaemon({ relay: relay.url, file, keys, nwcUrl })
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
