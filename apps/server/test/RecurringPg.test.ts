/**
 * Two daemons on one PostgreSQL database (differences.md §o), the same key, both running: a subscription authorised
 * through one of them is billed by exactly one biller (the holder of the billing lease), so `max_payments` 3 gives
 * exactly three payments and three billing requests, not six. Skipped without PostgreSQL binaries (`PgCluster`).
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import { PgCluster } from "@portal/testing"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Recurring from "@portal/user/Recurring"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { awaitBalance, awaitEvents, startDaemon, started, startNetwork, startUser } from "./PaymentsHarness.js"

const runnable = PgCluster.binariesAvailable()

describe.skipIf(!runnable)("recurring billing with two instances on PostgreSQL", () => {
  layer(Layer.merge(TestRelay.layer, PgCluster.layer), { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.scoped("three periods are billed once each, whichever instance bills", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const cluster = yield* PgCluster.PgCluster
        const databaseUrl = yield* cluster.createDatabase()
        const { network, nwcUrl } = yield* startNetwork(relay.url, { user: 1_000_000 })
        const keys = yield* Keys.generate
        const options = { relay: relay.url, file: "", keys, nwcUrl, databaseUrl } as const
        const a = yield* startDaemon(options)
        yield* startDaemon(options)
        const { keys: userKeys, user } = yield* startUser(relay.url, yield* network.wallet("user"), {
          recurring: Recurring.authorizeAll
        })
        // every billed period the user receives (requests with a subscription_id), whoever sent it
        const billed = yield* Ref.make(0)
        const requests = yield* user.subscribePaymentRequests
        yield* requests.pipe(
          Stream.filter((request) => Option.isSome(request.subscriptionId)),
          Stream.runForEach(() => Ref.update(billed, (n) => n + 1)),
          Effect.forkScoped
        )
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        yield* a.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/recurring", {
              main_key: userKeys.publicKey,
              payment_request: {
                amount: 1000,
                currency: "Millisats",
                recurrence: { calendar: "*-*-* *:*:*", first_payment_due: now, max_payments: 3 },
                expires_at: now + 60
              }
            })
            yield* awaitEvents(streamId, (events) => events.length > 0)
            yield* awaitBalance(3000)
            yield* Effect.sleep("2500 millis")
          })
        )
        assert.strictEqual(yield* network.balanceOf("daemon"), 3000)
        const [subscription] = yield* user.subscriptions
        assert.strictEqual(subscription!.paymentsMade, 3)
        assert.strictEqual(yield* Ref.get(billed), 3)
      })
    )
  })
})
