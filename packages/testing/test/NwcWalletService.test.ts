import { assert, layer } from "@effect/vitest"
import { NWCClient, Nip47WalletError } from "@getalby/sdk/nwc"
import * as NwcWalletService from "@portal/testing/NwcWalletService"
import * as TestRelay from "@portal/testing/TestRelay"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const Network = SimulatedLightning.layerNetwork({ wallets: { shop: 77_000, buyer: 500_000 } })
const Env = Layer.provideMerge(TestRelay.layer, Network)

/** A raw sdk client for the service's URL, closed with the scope. */
const client = (service: NwcWalletService.Service) =>
  Effect.acquireRelease(
    Effect.sync(() => new NWCClient({ nostrWalletConnectUrl: Redacted.value(service.url) })),
    (c) => Effect.sync(() => c.close())
  )

layer(Env, { excludeTestServices: true })("NwcWalletService", (it) => {
  it.scoped("publishes its 13194 info event and exposes a nostr+walletconnect URL for the relay", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.TestRelay
      const network = yield* SimulatedLightning.SimulatedNetwork
      const service = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("shop") })
      const url = new URL(Redacted.value(service.url))
      assert.strictEqual(url.protocol, "nostr+walletconnect:")
      assert.strictEqual(url.host, service.walletPubkey)
      assert.strictEqual(url.searchParams.get("relay"), relay.url)
      const info = (yield* relay.storedEvents).find((e) => e.kind === 13194 && e.pubkey === service.walletPubkey)
      assert.isDefined(info)
      assert.deepStrictEqual(
        info?.tags.find((t) => t[0] === "encryption"),
        ["encryption", "nip04 nip44_v2"]
      )
      assert.includeMembers(info?.content.split(" ") ?? [], ["make_invoice", "pay_invoice", "lookup_invoice"])
    })
  )

  it.scoped("answers NIP-47 requests from the backing simulated wallet", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.TestRelay
      const network = yield* SimulatedLightning.SimulatedNetwork
      const service = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("shop") })
      const nwc = yield* client(service)
      const balance = yield* Effect.promise(() => nwc.getBalance())
      assert.strictEqual(balance.balance, yield* network.balanceOf("shop"))
      const tx = yield* Effect.promise(() => nwc.makeInvoice({ amount: 3_000, description: "tea" }))
      assert.strictEqual(tx.amount, 3_000)
      assert.strictEqual(tx.state, "pending")
      assert.isTrue(tx.invoice.startsWith("lnbc30n1"))
      yield* (yield* network.wallet("buyer")).payInvoice(tx.invoice)
      const looked = yield* Effect.promise(() => nwc.lookupInvoice({ payment_hash: tx.payment_hash }))
      assert.strictEqual(looked.state, "settled")
      assert.match(looked.preimage, /^[0-9a-f]{64}$/)
      assert.strictEqual(yield* service.requests, 3)
    })
  )

  it.scoped("failNext answers the next request with the given NIP-47 error code", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.TestRelay
      const network = yield* SimulatedLightning.SimulatedNetwork
      const service = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("shop") })
      const nwc = yield* client(service)
      yield* service.failNext("RATE_LIMITED")
      const error = yield* Effect.flip(Effect.tryPromise(() => nwc.getBalance()))
      assert.instanceOf(error.error, Nip47WalletError)
      assert.strictEqual(Reflect.get(Object(error.error), "code"), "RATE_LIMITED")
      const ok = yield* Effect.promise(() => nwc.getBalance())
      assert.isAbove(ok.balance, 0)
    })
  )

  it.effect("stopping right after a reply leaves no unhandled rejection", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.TestRelay
      const network = yield* SimulatedLightning.SimulatedNetwork
      for (let i = 0; i < 3; i++) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const service = yield* NwcWalletService.make({ relayUrl: relay.url, wallet: yield* network.wallet("shop") })
            const nwc = yield* client(service)
            yield* Effect.promise(() => nwc.getBalance())
          })
        )
      }
      // A rejection would surface on the next macrotasks and fail the run.
      yield* Effect.sleep("300 millis")
    })
  )
})
