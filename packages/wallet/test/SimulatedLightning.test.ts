import { assert, describe, it } from "@effect/vitest"
import { Msat } from "@portal/protocol/Primitives"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"

const sha256 = (hex: string) => createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex")

const setup = (options: SimulatedLightning.NetworkOptions = {}) =>
  Effect.gen(function* () {
    const network = yield* SimulatedLightning.makeNetwork({ wallets: { alice: 100_000, bob: 5_000 }, ...options })
    return { network, alice: yield* network.wallet("alice"), bob: yield* network.wallet("bob") }
  })

describe("SimulatedLightning", () => {
  it.effect("alice pays bob's BOLT11: real invoice, preimage hashes to the payment hash, balances move", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_700_000_000_000)
      const { alice, bob, network } = yield* setup()
      const invoice = yield* bob.makeInvoice({ amountMsat: Msat.make(21_000), description: "coffee", expirySecs: 600 })

      assert.isTrue(invoice.bolt11.startsWith("lnbc210n1"))
      const decoded = yield* Bolt11.decode(invoice.bolt11)
      assert.strictEqual(decoded.amountMsat, 21_000)
      assert.strictEqual(decoded.paymentHash, invoice.paymentHash)
      assert.strictEqual(decoded.description, "coffee")
      assert.strictEqual(decoded.createdAt, 1_700_000_000)
      assert.strictEqual(decoded.expiresAt, 1_700_000_600)
      assert.strictEqual(invoice.expiresAt, 1_700_000_600)

      const pending = yield* bob.lookupInvoice(invoice.paymentHash)
      assert.strictEqual(pending.state, "pending")
      assert.isUndefined(pending.preimage)

      const waiter = yield* Effect.fork(bob.awaitSettlement(invoice.paymentHash))
      const payment = yield* alice.payInvoice(invoice.bolt11)
      assert.strictEqual(sha256(payment.preimage), invoice.paymentHash)
      assert.strictEqual(payment.amountMsat, 21_000)
      assert.strictEqual(payment.feesPaidMsat, 0)

      const settlement = yield* Fiber.join(waiter)
      assert.strictEqual(settlement._tag, "Settled")
      if (settlement._tag === "Settled") {
        assert.strictEqual(settlement.preimage, payment.preimage)
        assert.strictEqual(settlement.settledAt, 1_700_000_000)
      }
      assert.strictEqual(yield* alice.balance, 79_000)
      assert.strictEqual(yield* bob.balance, 26_000)
      assert.strictEqual(yield* network.balanceOf("bob"), 26_000)
      const settled = yield* bob.lookupInvoice(invoice.paymentHash)
      assert.strictEqual(settled.state, "settled")
      assert.strictEqual(settled.preimage, payment.preimage)
    })
  )

  it.effect("the settlement stream emits pending, then settled, then ends", () =>
    Effect.gen(function* () {
      const { alice, bob } = yield* setup()
      const invoice = yield* bob.makeInvoice({ amountMsat: Msat.make(1_000), description: "stream" })
      const first = yield* Deferred.make<void>()
      const collected = yield* Effect.fork(
        Stream.runCollect(
          bob.settlement(invoice.paymentHash).pipe(Stream.tap(() => Deferred.succeed(first, undefined)))
        )
      )
      yield* Deferred.await(first)
      yield* alice.payInvoice(invoice.bolt11)
      const states = Chunk.toArray(yield* Fiber.join(collected)).map((s) => s.state)
      assert.deepStrictEqual(states, ["pending", "settled"])
    })
  )

  it.effect("an invoice expires: the waiter sees Expired at its expiry and paying it fails", () =>
    Effect.gen(function* () {
      const { alice, bob } = yield* setup()
      const invoice = yield* bob.makeInvoice({ amountMsat: Msat.make(1_000), description: "late", expirySecs: 60 })
      const waiter = yield* Effect.fork(bob.awaitSettlement(invoice.paymentHash))
      yield* TestClock.adjust("59 seconds")
      assert.isTrue((yield* Fiber.poll(waiter))._tag === "None")
      yield* TestClock.adjust("1 second")
      const settlement = yield* Fiber.join(waiter)
      assert.strictEqual(settlement._tag, "Expired")
      const error = yield* Effect.flip(alice.payInvoice(invoice.bolt11))
      assert.strictEqual(error._tag, "WalletPaymentFailed")
      if (error._tag === "WalletPaymentFailed") assert.strictEqual(error.reason, "Expired")
      assert.strictEqual(yield* alice.balance, 100_000)
      assert.strictEqual((yield* bob.lookupInvoice(invoice.paymentHash)).state, "expired")
    })
  )

  it.effect("insufficient balance: the payment fails, nothing moves, the invoice stays payable", () =>
    Effect.gen(function* () {
      const { alice, bob } = yield* setup()
      const invoice = yield* alice.makeInvoice({ amountMsat: Msat.make(5_001), description: "too much" })
      const error = yield* Effect.flip(bob.payInvoice(invoice.bolt11))
      assert.strictEqual(error._tag, "WalletInsufficientBalance")
      assert.include(error.message, "have 5000 msat")
      assert.strictEqual(yield* bob.balance, 5_000)
      assert.strictEqual((yield* alice.lookupInvoice(invoice.paymentHash)).state, "pending")
    })
  )

  it.effect("the network fee is charged to the payer and counted in the balance check", () =>
    Effect.gen(function* () {
      const { alice, bob } = yield* setup({ feeMsat: 7 })
      const exact = yield* alice.makeInvoice({ amountMsat: Msat.make(5_000), description: "exact" })
      assert.strictEqual((yield* Effect.flip(bob.payInvoice(exact.bolt11)))._tag, "WalletInsufficientBalance")
      const invoice = yield* alice.makeInvoice({ amountMsat: Msat.make(4_000), description: "ok" })
      const payment = yield* bob.payInvoice(invoice.bolt11)
      assert.strictEqual(payment.feesPaidMsat, 7)
      assert.strictEqual(yield* bob.balance, 993)
      assert.strictEqual(yield* alice.balance, 104_000)
    })
  )

  it.effect("an invoice is paid once: a second payment and a concurrent double payment fail without debit", () =>
    Effect.gen(function* () {
      const { alice, bob, network } = yield* setup()
      yield* network.addWallet("carol", 50_000)
      const carol = yield* network.wallet("carol")
      const invoice = yield* bob.makeInvoice({ amountMsat: Msat.make(2_000), description: "once" })
      const results = yield* Effect.all([alice.payInvoice(invoice.bolt11), carol.payInvoice(invoice.bolt11)], {
        concurrency: "unbounded",
        mode: "either"
      })
      assert.strictEqual(results.filter(Either.isRight).length, 1)
      const failure = results.find(Either.isLeft)
      assert.strictEqual(failure?.left._tag, "WalletPaymentFailed")
      assert.strictEqual((yield* alice.balance) + (yield* carol.balance), 148_000)
      assert.strictEqual(yield* bob.balance, 7_000)
    })
  )

  it.effect("paying one's own invoice, an unknown invoice or garbage fails with a typed error", () =>
    Effect.gen(function* () {
      const { alice, bob } = yield* setup()
      const own = yield* alice.makeInvoice({ amountMsat: Msat.make(1_000), description: "me" })
      const self = yield* Effect.flip(alice.payInvoice(own.bolt11))
      assert.strictEqual(self._tag === "WalletPaymentFailed" && self.reason, "SelfPayment")

      const other = yield* SimulatedLightning.makeNetwork({ wallets: { mallory: 0 } })
      const foreign = yield* (yield* other.wallet("mallory")).makeInvoice({
        amountMsat: Msat.make(1_000),
        description: "elsewhere"
      })
      const unknown = yield* Effect.flip(bob.payInvoice(foreign.bolt11))
      assert.strictEqual(unknown._tag === "WalletPaymentFailed" && unknown.reason, "Failed")

      const garbage = yield* Effect.flip(bob.payInvoice("lnbc1notaninvoice"))
      assert.strictEqual(garbage._tag, "InvalidBolt11")
      const notFound = yield* Effect.flip(bob.lookupInvoice(own.paymentHash))
      assert.strictEqual(notFound._tag, "WalletInvoiceNotFound")
      assert.strictEqual(yield* bob.balance, 5_000)
    })
  )

  it.effect("an offline wallet is unreachable, and payments to it find no route", () =>
    Effect.gen(function* () {
      const { alice, bob, network } = yield* setup()
      const invoice = yield* bob.makeInvoice({ amountMsat: Msat.make(1_000), description: "offline" })
      yield* network.setOffline("bob", true)
      assert.strictEqual((yield* Effect.flip(bob.balance))._tag, "WalletUnreachable")
      const error = yield* Effect.flip(alice.payInvoice(invoice.bolt11))
      assert.strictEqual(error._tag === "WalletPaymentFailed" && error.reason, "Failed")
      yield* network.setOffline("bob", false)
      yield* alice.payInvoice(invoice.bolt11)
      assert.strictEqual(yield* bob.balance, 6_000)
    })
  )

  it.effect("info names the simulated backend and the node key that signs its invoices", () =>
    Effect.gen(function* () {
      const { bob } = yield* setup()
      const info = yield* bob.info
      assert.strictEqual(info.walletType, "simulated")
      assert.strictEqual(info.alias, "bob")
      assert.match(info.nodePubkey ?? "", /^0[23][0-9a-f]{64}$/)
    })
  )

  it.effect("layerSimulated provides the named wallet as the Wallet service", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { dave: 42_000 } })
      const balance = yield* Effect.flatMap(Wallet.Wallet, (w) => w.balance).pipe(
        Effect.provide(SimulatedLightning.layerSimulated(network, "dave"))
      )
      assert.strictEqual(balance, 42_000)
    })
  )
})

describe("Wallet.layerNone", () => {
  it.effect("every call fails, naming wallet.ln_backend and PORTAL__WALLET__LN_BACKEND", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const hash = Bolt11.PaymentHash.make("00".repeat(32))
      const errors = [
        yield* Effect.flip(wallet.makeInvoice({ amountMsat: Msat.make(1), description: "" })),
        yield* Effect.flip(wallet.lookupInvoice(hash)),
        yield* Effect.flip(wallet.awaitSettlement(hash)),
        yield* Effect.flip(Stream.runDrain(wallet.settlement(hash))),
        yield* Effect.flip(wallet.payInvoice("lnbc1")),
        yield* Effect.flip(wallet.balance),
        yield* Effect.flip(wallet.info)
      ]
      for (const error of errors) {
        assert.strictEqual(error._tag, "WalletNotConfigured")
        assert.strictEqual(
          error.message,
          "No Lightning wallet configured: set wallet.ln_backend (PORTAL__WALLET__LN_BACKEND) to nwc"
        )
      }
    }).pipe(Effect.provide(Wallet.layerNone))
  )
})

describe("Bolt11", () => {
  it.effect("decode rejects garbage with InvalidBolt11; preimageMatches checks sha256", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* Effect.flip(Bolt11.decode("hello")))._tag, "InvalidBolt11")
      assert.strictEqual((yield* Effect.flip(Bolt11.decode("lnbc1qqqq")))._tag, "InvalidBolt11")
      const preimage = "11".repeat(32)
      assert.isTrue(Bolt11.preimageMatches(preimage, sha256(preimage)))
      assert.isFalse(Bolt11.preimageMatches("22".repeat(32), sha256(preimage)))
      assert.isFalse(Bolt11.preimageMatches("", sha256(preimage)))
    })
  )
})
