/**
 * Single payments across daemon restarts (in-process: the daemon's scope is closed where its fibers are, and a new
 * daemon starts on the same SQLite file with the same key; the SIGKILL of the real process is PaymentsCrash.test.ts).
 * A published request is not sent again; the user's answer after the restart still counts; the original deadline is
 * kept; a payment that cannot resume (no wallet any more) ends with an error event at once.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Payments from "@portal/user/Payments"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { awaitEvents, awaitRecordedSent, endsWith, started, startRestartable, statusOf } from "./PaymentsHarness.js"

const single = (mainKey: string) => ({
  main_key: mainKey,
  payment_request: { description: "Coffee", amount: 10_000, currency: "Millisats" }
})

/** Until the policy has seen `count` requests. */
const awaitSeen = (seen: Ref.Ref<ReadonlyArray<Payments.PaymentRequest>>, count: number) =>
  Ref.get(seen).pipe(
    Effect.filterOrFail(
      (all) => all.length >= count,
      () => "not yet"
    ),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("20 seconds"),
    Effect.orDie
  )

describe("single payments across restarts", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("a request answered only after the restart: not sent again, the answer counts, paid", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const release = yield* Deferred.make<void>()
        const { userKeys, daemon } = yield* startRestartable({
          payment: (request) =>
            Ref.update(seen, (all) => [...all, request]).pipe(
              Effect.zipRight(Deferred.await(release)),
              Effect.as(Payments.approve)
            )
        })
        const first = yield* daemon()
        const streamId = yield* first.http(started("/payments/single", single(userKeys.publicKey)))
        const [request] = yield* awaitSeen(seen, 1)
        yield* awaitRecordedSent(first.store, "single_payment", streamId)
        yield* first.stop

        const second = yield* daemon()
        yield* Deferred.succeed(release, undefined)
        yield* second.http(
          Effect.gen(function* () {
            const events = yield* awaitEvents(streamId, endsWith("paid", "timeout", "error"))
            assert.strictEqual(statusOf(events[0]), "user_approved")
            const last = events[events.length - 1]!
            assert.strictEqual(statusOf(last), "paid", JSON.stringify(events))
            assert.isTrue(
              Bolt11.preimageMatches((last["status"] as { preimage: string }).preimage, request!.invoice.paymentHash)
            )
          })
        )
        // the resumed daemon listened for the answer; it did not prompt the user a second time
        assert.strictEqual((yield* Ref.get(seen)).length, 1)
      })
    )

    it.scoped("an unanswered request keeps its original deadline across the restart", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const { userKeys, daemon } = yield* startRestartable({
          payment: (request) => Ref.update(seen, (all) => [...all, request]).pipe(Effect.as(Payments.ignore))
        })
        const options = { paymentTimeout: "6 seconds" } as const
        const first = yield* daemon(options)
        const createdAt = yield* Clock.currentTimeMillis
        const streamId = yield* first.http(started("/payments/single", single(userKeys.publicKey)))
        yield* awaitSeen(seen, 1)
        yield* first.stop
        yield* Effect.sleep("3 seconds")
        const second = yield* daemon(options)
        const restartedAt = yield* Clock.currentTimeMillis
        const [timeout, ...rest] = yield* second.http(awaitEvents(streamId, (events) => events.length > 0))
        assert.deepStrictEqual(rest, [])
        assert.deepStrictEqual(timeout!["status"], { status: "timeout" })
        const at = Date.parse(timeout!.timestamp)
        assert.isAtLeast(at, createdAt + 5_000)
        // a deadline re-armed from the restart would fire 6 s after it
        assert.isBelow(at, restartedAt + 5_000)
      })
    )

    it.scoped("restarted without a wallet: the payment ends at once with an error event naming the restart", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const { userKeys, daemon } = yield* startRestartable({
          payment: (request) => Ref.update(seen, (all) => [...all, request]).pipe(Effect.as(Payments.ignore))
        })
        const first = yield* daemon()
        const streamId = yield* first.http(started("/payments/single", single(userKeys.publicKey)))
        yield* awaitSeen(seen, 1)
        yield* first.stop
        const second = yield* daemon({ noWallet: true })
        const events = yield* second.http(awaitEvents(streamId, (events) => events.length > 0, "5 seconds"))
        assert.deepStrictEqual(
          events.map((e) => e["status"]),
          [{ status: "error", reason: "interrupted by restart: no wallet configured" }]
        )
      })
    )
  })
})
