import { assert, describe, layer } from "@effect/vitest"
import { Msat } from "@portal/protocol/Primitives"
import * as NwcWalletService from "@portal/testing/NwcWalletService"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

const sha256 = (hex: string) => createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex")

/** The daemon's wallet ("daemon") behind a real NWC wallet service on the real loopback relay; "user" is a
 *  simulated wallet on the same network that pays and gets paid directly. `pollTimeout`: how long one
 *  `lookup_invoice` of `awaitSettlement` may go unanswered (one lost in an outage is otherwise waited on 10 s). */
const makeLayer = (encryption: "nip44_v2 nip04" | "nip04", pollTimeout?: Duration.DurationInput) => {
  const network = SimulatedLightning.layerNetwork({ wallets: { daemon: 50_000, user: 1_000_000 }, feeMsat: 3 })
  const service = NwcWalletService.layer("daemon", { encryption }).pipe(
    Layer.provideMerge(TestRelay.layer),
    Layer.provideMerge(network)
  )
  const nwc = Layer.unwrapScoped(
    Effect.map(NwcWalletService.NwcWalletService, (s) =>
      Wallet.layerNwc({ url: s.url, pollInterval: "50 millis", ...(pollTimeout === undefined ? {} : { pollTimeout }) })
    )
  )
  return Layer.provideMerge(nwc, service)
}

const user = Effect.flatMap(SimulatedLightning.SimulatedNetwork, (network) => network.wallet("user"))

/** The `encryption` tags of the 23194 requests the relay received (events of client `EVENT` messages). */
const requestEncryptions = Effect.map(
  Effect.flatMap(TestRelay.TestRelay, (relay) => relay.received),
  (frames) =>
    frames.flatMap((event) => {
      if (typeof event !== "object" || event === null || Reflect.get(event, "kind") !== 23194) return []
      const tags: unknown = Reflect.get(event, "tags")
      const tag = Array.isArray(tags) ? tags.find((t) => Array.isArray(t) && t[0] === "encryption") : undefined
      return [Array.isArray(tag) ? String(tag[1]) : "none"]
    })
)

layer(makeLayer("nip44_v2 nip04"), { excludeTestServices: true })("Wallet.layerNwc over a real NWC service", (it) => {
  it.effect("make_invoice → another wallet pays → settlement seen, sha256(preimage) = payment hash", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const before = yield* wallet.balance
      const invoice = yield* wallet.makeInvoice({
        amountMsat: Msat.make(12_345),
        description: "order 7",
        expirySecs: 300
      })
      const decoded = yield* Bolt11.decode(invoice.bolt11)
      assert.strictEqual(decoded.amountMsat, 12_345)
      assert.strictEqual(decoded.description, "order 7")
      assert.strictEqual(decoded.paymentHash, invoice.paymentHash)
      assert.strictEqual(invoice.expiresAt - invoice.createdAt, 300)
      assert.strictEqual((yield* wallet.lookupInvoice(invoice.paymentHash)).state, "pending")

      const statuses = yield* Effect.fork(Stream.runCollect(wallet.settlement(invoice.paymentHash)))
      const payment = yield* (yield* user).payInvoice(invoice.bolt11)
      const settlement = yield* wallet.awaitSettlement(invoice.paymentHash)
      assert.strictEqual(settlement._tag, "Settled")
      if (settlement._tag === "Settled") {
        assert.strictEqual(settlement.preimage, payment.preimage)
        assert.strictEqual(sha256(settlement.preimage), invoice.paymentHash)
        assert.strictEqual(settlement.amountMsat, 12_345)
      }
      const states = Chunk.toArray(yield* statuses.await.pipe(Effect.flatten)).map((s) => s.state)
      assert.strictEqual(states.at(-1), "settled")
      assert.strictEqual(yield* wallet.balance, before + 12_345)
      assert.deepStrictEqual(yield* requestEncryptions.pipe(Effect.map((e) => [...new Set(e)])), ["nip44_v2"])
    })
  )

  it.effect("pay_invoice pays a BOLT11 from another wallet: preimage checked, fees reported, balance debited", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const payee = yield* user
      const before = yield* wallet.balance
      const invoice = yield* payee.makeInvoice({ amountMsat: Msat.make(2_000), description: "refund" })
      const payment = yield* wallet.payInvoice(invoice.bolt11)
      assert.strictEqual(payment.paymentHash, invoice.paymentHash)
      assert.strictEqual(sha256(payment.preimage), invoice.paymentHash)
      assert.strictEqual(payment.feesPaidMsat, 3)
      assert.strictEqual(payment.amountMsat, 2_000)
      assert.strictEqual(yield* wallet.balance, before - 2_003)
      assert.strictEqual((yield* payee.lookupInvoice(invoice.paymentHash)).state, "settled")
    })
  )

  it.effect("INSUFFICIENT_BALANCE from the wallet becomes WalletInsufficientBalance; nothing is paid", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const payee = yield* user
      const invoice = yield* payee.makeInvoice({ amountMsat: Msat.make(900_000), description: "too much" })
      const error = yield* Effect.flip(wallet.payInvoice(invoice.bolt11))
      assert.strictEqual(error._tag, "WalletInsufficientBalance")
      assert.strictEqual((yield* payee.lookupInvoice(invoice.paymentHash)).state, "pending")
    })
  )

  it.effect("paying an expired invoice fails with PAYMENT_FAILED → WalletPaymentFailed", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const invoice = yield* (yield* user).makeInvoice({
        amountMsat: Msat.make(1_000),
        description: "x",
        expirySecs: 1
      })
      yield* Effect.sleep("1100 millis")
      const error = yield* Effect.flip(wallet.payInvoice(invoice.bolt11))
      assert.strictEqual(error._tag, "WalletPaymentFailed")
    })
  )

  it.effect("an invoice nobody pays ends Expired at its expiry", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const invoice = yield* wallet.makeInvoice({ amountMsat: Msat.make(1_000), description: "late", expirySecs: 1 })
      const settlement = yield* wallet.awaitSettlement(invoice.paymentHash).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(settlement._tag, "Expired")
      assert.strictEqual((yield* wallet.lookupInvoice(invoice.paymentHash)).state, "expired")
    })
  )

  it.effect("NOT_FOUND for an unknown payment hash becomes WalletInvoiceNotFound", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const error = yield* Effect.flip(wallet.lookupInvoice(Bolt11.PaymentHash.make("ab".repeat(32))))
      assert.strictEqual(error._tag, "WalletInvoiceNotFound")
    })
  )

  it.effect("every NIP-47 error code maps to its typed error", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const service = yield* NwcWalletService.NwcWalletService
      const cases: ReadonlyArray<readonly [string, string, string | undefined]> = [
        ["INSUFFICIENT_BALANCE", "WalletInsufficientBalance", undefined],
        ["PAYMENT_FAILED", "WalletPaymentFailed", "Failed"],
        ["QUOTA_EXCEEDED", "WalletPaymentFailed", "QuotaExceeded"],
        ["NOT_IMPLEMENTED", "WalletNotSupported", "NotImplemented"],
        ["RESTRICTED", "WalletNotSupported", "Restricted"],
        ["UNSUPPORTED_ENCRYPTION", "WalletNotSupported", "Encryption"],
        ["NOT_FOUND", "WalletInvoiceNotFound", undefined],
        ["UNAUTHORIZED", "WalletUnreachable", "Unauthorized"],
        ["RATE_LIMITED", "WalletUnreachable", "RateLimited"],
        ["INTERNAL", "WalletUnreachable", "Internal"],
        ["OTHER", "WalletUnreachable", "Internal"]
      ]
      for (const [code, tag, reason] of cases) {
        yield* service.failNext(code, `the wallet says ${code}`)
        const error = yield* Effect.flip(wallet.balance)
        assert.strictEqual(error._tag, tag, code)
        if (reason !== undefined) assert.strictEqual(Reflect.get(error, "reason"), reason, code)
      }
      assert.isAbove(yield* wallet.balance, 0)
    })
  )

  it.effect("info reports the nwc backend and the methods the service offers", () =>
    Effect.gen(function* () {
      const info = yield* (yield* Wallet.Wallet).info
      assert.strictEqual(info.walletType, "nwc")
      assert.includeMembers([...info.methods], ["make_invoice", "pay_invoice", "lookup_invoice", "get_balance"])
    })
  )

  it.effect("layerNwcConfig reads wallet.nwc.url from the config provider", () =>
    Effect.gen(function* () {
      const service = yield* NwcWalletService.NwcWalletService
      const provider = ConfigProvider.fromMap(new Map([["wallet.nwc.url", Redacted.value(service.url)]]))
      const fromConfig = Wallet.layerNwcConfig({
        url: Config.redacted("url").pipe(Config.nested("nwc"), Config.nested("wallet"))
      }).pipe(Layer.provide(Layer.setConfigProvider(provider)))
      const balance = yield* Effect.flatMap(Wallet.Wallet, (w) => w.balance).pipe(Effect.provide(fromConfig))
      assert.strictEqual(balance, yield* (yield* Wallet.Wallet).balance)
    })
  )

  it.effect("the connection URL stays redacted", () =>
    Effect.gen(function* () {
      const service = yield* NwcWalletService.NwcWalletService
      const secret = new URL(Redacted.value(service.url)).searchParams.get("secret") ?? "missing"
      assert.match(secret, /^[0-9a-f]{64}$/)
      assert.notInclude(String(service.url), secret)
      assert.notInclude(JSON.stringify(service.url), secret)
    })
  )
})

layer(makeLayer("nip04"), { excludeTestServices: true })("Wallet.layerNwc with a NIP-04-only wallet", (it) => {
  it.effect("falls back to NIP-04 and still gets paid", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const invoice = yield* wallet.makeInvoice({ amountMsat: Msat.make(5_000), description: "legacy" })
      yield* (yield* user).payInvoice(invoice.bolt11)
      const settlement = yield* wallet.awaitSettlement(invoice.paymentHash)
      assert.strictEqual(settlement._tag, "Settled")
      assert.deepStrictEqual(yield* requestEncryptions.pipe(Effect.map((e) => [...new Set(e)])), ["nip04"])
    })
  )
})

layer(makeLayer("nip44_v2 nip04"), { excludeTestServices: true })("Wallet.layerNwc when the relay goes away", (it) => {
  it.effect("relay down → WalletUnreachable at once; relay back → the wallet answers again", () =>
    Effect.gen(function* () {
      const wallet = yield* Wallet.Wallet
      const relay = yield* TestRelay.TestRelay
      const balance = yield* wallet.balance
      yield* relay.stop
      const error = yield* Effect.flip(wallet.balance).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(error._tag, "WalletUnreachable")
      yield* relay.start
      // A request sent before the wallet service has resubscribed is lost, and the sdk waits 10 s for its reply:
      // each try is given 2 s here, and tried again until the wallet answers (within 40 s).
      const again = yield* wallet.balance.pipe(
        Effect.timeoutFail({ duration: "2 seconds", onTimeout: () => "NoReply" as const }),
        Effect.retry({
          while: (e) => e === "NoReply" || e._tag === "WalletTimeout" || e._tag === "WalletUnreachable",
          schedule: Schedule.spaced("100 millis")
        }),
        Effect.timeout("40 seconds")
      )
      assert.strictEqual(again, balance)
    })
  )
})

layer(makeLayer("nip44_v2 nip04", "2 seconds"), { excludeTestServices: true })(
  "Wallet.layerNwc waiting through an outage",
  (it) => {
    it.effect("awaitSettlement keeps polling through a relay restart and sees the payment made meanwhile", () =>
      Effect.gen(function* () {
        const wallet = yield* Wallet.Wallet
        const relay = yield* TestRelay.TestRelay
        const invoice = yield* wallet.makeInvoice({ amountMsat: Msat.make(4_000), description: "outage" })
        const waiter = yield* Effect.fork(wallet.awaitSettlement(invoice.paymentHash))
        yield* Effect.sleep("200 millis")
        yield* relay.stop
        const payment = yield* (yield* user).payInvoice(invoice.bolt11)
        yield* Effect.sleep("500 millis")
        yield* relay.start
        const settlement = yield* Fiber.join(waiter).pipe(Effect.timeout("45 seconds"))
        assert.strictEqual(settlement._tag, "Settled")
        if (settlement._tag === "Settled") assert.strictEqual(settlement.preimage, payment.preimage)
      })
    )
  }
)

describe("Wallet.layerNwc configuration", () => {
  layer(Layer.empty)("bad URL", (it) => {
    it.effect("a malformed URL fails without echoing it", () =>
      Effect.gen(function* () {
        const url = "nostr+walletconnect://nothex?secret=deadbeefcafe"
        const error = yield* Effect.flip(Effect.scoped(Layer.build(Wallet.layerNwc({ url: Redacted.make(url) }))))
        assert.strictEqual(error._tag, "WalletUnreachable")
        assert.notInclude(error.message, "deadbeefcafe")
        assert.include(error.message, "wallet.nwc.url")
      })
    )
  })
})
