/**
 * Single payments end to end: the real daemon (random loopback port, SQLite file) whose `nwc` wallet is a real
 * NIP-47 wallet service on the loopback relay backed by a simulated Lightning network, and a user from
 * `@portal/user` paying with its own wallet of that network. `paid` must only come from the daemon's own wallet
 * (checked here against the invoice's payment hash and the daemon's balance).
 *
 * The tests run concurrently (`describe.concurrent`): each has its own network, daemon, SQLite file and user on the
 * shared relay, and most of their time is spent waiting on deadlines and billing periods.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Currency from "@portal/protocol/Currency"
import { Amount, Msat } from "@portal/protocol/Primitives"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Payments from "@portal/user/Payments"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { awaitBalance, awaitEvents, endsWith, eurRate, started, startScene, statusOf } from "./PaymentsHarness.js"

const single = (mainKey: string, amount: number, currency = "Millisats") => ({
  main_key: mainKey,
  subkeys: [],
  payment_request: { description: "Coffee", amount, currency }
})

/** A payment policy that records the requests it saw, then answers with `policy`. */
const recording = (seen: Ref.Ref<ReadonlyArray<Payments.PaymentRequest>>, policy: Payments.PaymentPolicy) =>
  ((request) =>
    Ref.update(seen, (all) => [...all, request]).pipe(Effect.zipRight(policy(request)))) as Payments.PaymentPolicy

describe.concurrent("single payments", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("approved and paid: user_approved, then paid with the preimage of the daemon's invoice", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const { network, daemon, keys } = yield* startScene(
          { payment: recording(seen, Payments.approveAll) },
          { balances: { user: 1_000_000 } }
        )
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/single", single(keys.publicKey, 10_000))
            const events = yield* awaitEvents(streamId, endsWith("paid", "timeout", "error"))
            assert.strictEqual(statusOf(events[0]), "user_approved")
            const last = events[events.length - 1]!
            assert.strictEqual(statusOf(last), "paid", JSON.stringify(events))
            const [request] = yield* Ref.get(seen)
            assert.strictEqual(request!.invoice.amountMsat, 10_000)
            const preimage = (last["status"] as { preimage: string }).preimage
            assert.isTrue(Bolt11.preimageMatches(preimage, request!.invoice.paymentHash))
            // every user status came before paid, in order, without repeats
            const statuses = events.map(statusOf)
            assert.deepStrictEqual(statuses.slice(0, 1), ["user_approved"])
            assert.isTrue(statuses.filter((s) => s === "paid").length === 1)
            // Millisats, not a subscription: both added fields are there, as null
            for (const event of events) {
              assert.deepStrictEqual([event["exchange_rate"], event["subscription_id"]], [null, null])
            }
            yield* awaitBalance(10_000)
            assert.strictEqual(yield* network.balanceOf("user"), 990_000)
          })
        )
      })
    )

    it.scoped("rejected: one user_rejected with the user's reason; nothing is paid", () =>
      Effect.gen(function* () {
        const { network, daemon, keys } = yield* startScene(
          { payment: Payments.rejectAll("too expensive") },
          { balances: { user: 1_000_000 } }
        )
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/single", single(keys.publicKey, 10_000))
            const events = yield* awaitEvents(streamId, endsWith("user_rejected"))
            assert.deepStrictEqual(
              events.map((e) => e["status"]),
              [{ status: "user_rejected", reason: "too expensive" }]
            )
            yield* awaitBalance(0)
          })
        )
        assert.strictEqual(yield* network.balanceOf("user"), 1_000_000)
      })
    )

    it.scoped("user out of funds: user_approved, user_failed, then timeout at the deadline (never paid)", () =>
      Effect.gen(function* () {
        const { daemon, keys } = yield* startScene(
          { payment: Payments.approveAll },
          // the deadline leaves the user's failed attempt time to arrive on a loaded machine
          { balances: { user: 5_000 }, daemon: { paymentTimeout: "10 seconds" } }
        )
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/single", single(keys.publicKey, 10_000))
            const events = yield* awaitEvents(streamId, endsWith("timeout", "paid", "error"))
            assert.deepStrictEqual(
              events.map(statusOf),
              ["user_approved", "user_failed", "timeout"],
              JSON.stringify(events)
            )
            assert.match((events[1]!["status"] as { reason: string }).reason, /^Payment failed: /)
            yield* awaitBalance(0)
          })
        )
      })
    )

    it.scoped("no answer: timeout at expires_at", () =>
      Effect.gen(function* () {
        const { daemon, keys } = yield* startScene(
          { payment: Payments.ignoreAll },
          { balances: { user: 1_000_000 }, daemon: { paymentTimeout: "3 seconds" } }
        )
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/single", single(keys.publicKey, 10_000))
            const events = yield* awaitEvents(streamId, (events) => events.length > 0)
            assert.deepStrictEqual(
              events.map((e) => [e.type, e["status"]]),
              [["payment_status_update", { status: "timeout" }]]
            )
          })
        )
      })
    )

    it.scoped("priced in EUR cents: the fixed rate is sent and the invoice is for its msat", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const { daemon, keys } = yield* startScene(
          { payment: recording(seen, Payments.approveAll) },
          { balances: { user: 100_000_000 } }
        )
        const expected = yield* Currency.fiatToMsat(Amount.make(1999), eurRate)
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/single", single(keys.publicKey, 1999, "eur"))
            const events = yield* awaitEvents(streamId, endsWith("paid", "timeout", "error"))
            assert.strictEqual(statusOf(events[events.length - 1]), "paid", JSON.stringify(events))
            const [request] = yield* Ref.get(seen)
            assert.strictEqual(request!.amount, 1999)
            assert.deepStrictEqual(request!.currency, Currency.fiat("EUR"))
            const rate = Option.getOrThrow(request!.exchangeRate)
            assert.strictEqual(rate.rate, eurRate)
            assert.strictEqual(rate.source, "fixed")
            assert.strictEqual(request!.invoice.amountMsat, expected)
            // the rate sent is recorded in every status event of the stream
            assert.isAtLeast(events.length, 2)
            for (const event of events) {
              assert.deepStrictEqual(event["exchange_rate"], {
                rate: eurRate,
                source: "fixed",
                time: String(rate.time)
              })
              assert.strictEqual(event["subscription_id"], null)
            }
            yield* awaitBalance(expected)
          })
        )
      })
    )
    it.scoped("raw: the caller's invoice is sent as is; the stream ends at the user's success (no monitoring)", () =>
      Effect.gen(function* () {
        const seen = yield* Ref.make<ReadonlyArray<Payments.PaymentRequest>>([])
        const { network, daemon, keys } = yield* startScene(
          { payment: recording(seen, Payments.approveAll) },
          { balances: { user: 1_000_000, shop: 0 } }
        )
        const invoice = yield* (yield* network.wallet("shop")).makeInvoice({
          amountMsat: Msat.make(7000),
          description: "elsewhere"
        })
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/raw", {
              main_key: keys.publicKey,
              payment_request: { amount: 7000, currency: "Millisats", invoice: invoice.bolt11, description: "x" }
            })
            const events = yield* awaitEvents(streamId, endsWith("user_success", "user_failed", "timeout"))
            assert.deepStrictEqual(events.map(statusOf), ["user_approved", "user_success"])
            const preimage = (events[1]!["status"] as { preimage: string }).preimage
            assert.isTrue(Bolt11.preimageMatches(preimage, invoice.paymentHash))
            const [request] = yield* Ref.get(seen)
            assert.strictEqual(request!.invoice.bolt11, invoice.bolt11)
            assert.match(request!.requestId, /^[0-9a-f-]{36}$/)
          })
        )
        assert.strictEqual(yield* network.balanceOf("shop"), 7000)
        assert.strictEqual(yield* network.balanceOf("daemon"), 0)
      })
    )

    it.scoped("raw with the caller's rate and an unknown subscription: rejected, both recorded in the event", () =>
      Effect.gen(function* () {
        const { network, daemon, keys } = yield* startScene(
          { payment: Payments.approveAll },
          { balances: { user: 1_000_000, shop: 0 } }
        )
        const invoice = yield* (yield* network.wallet("shop")).makeInvoice({
          amountMsat: Msat.make(7000),
          description: "elsewhere"
        })
        const rate = { rate: 61234.5, source: "kraken", time: "1767225600" }
        yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/payments/raw", {
              main_key: keys.publicKey,
              payment_request: {
                amount: 7000,
                currency: "Millisats",
                invoice: invoice.bolt11,
                current_exchange_rate: rate,
                subscription_id: "not-authorized"
              }
            })
            const events = yield* awaitEvents(streamId, endsWith("user_success", "user_rejected", "timeout"))
            assert.deepStrictEqual(events.map(statusOf), ["user_rejected"], JSON.stringify(events))
            assert.deepStrictEqual(events[0]!["exchange_rate"], rate)
            assert.strictEqual(events[0]!["subscription_id"], "not-authorized")
          })
        )
        assert.strictEqual(yield* network.balanceOf("shop"), 0)
      })
    )
  })
})
