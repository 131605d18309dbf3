/**
 * The real daemon process (tsup bundle, `DaemonProcess.ts`) killed with SIGKILL between the user's `approved` and
 * the settlement of its invoice: the user pays while the daemon is down, and after the restart on the same data
 * directory the stream ends in `paid` with the invoice's preimage (monitoring resumed from the store,
 * differences.md §f). The daemon's `nwc` wallet is a real NIP-47 service on the loopback relay backed by a simulated
 * network; the user's `approved` is a real 28001 sent by the test, so that it can pay only after the kill.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Conversation from "@portal/nostr/Conversation"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Messages from "@portal/protocol/Messages"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as DaemonProcess from "./DaemonProcess.js"
import { awaitEvents, endsWith, startNetwork, startUser, started, statusOf } from "./PaymentsHarness.js"

describe("a single payment across a SIGKILL", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped(
      "killed between user_approved and settlement: after the restart the stream ends in paid",
      () =>
        Effect.gen(function* () {
          const relay = yield* TestRelay.TestRelay
          const { network, nwcUrl } = yield* startNetwork(relay.url, { user: 1_000_000 })
          const main = yield* DaemonProcess.entry
          const dataDir = yield* DaemonProcess.dataDir("portal-pay-crash-")
          const port = yield* DaemonProcess.freePort
          const env = {
            PORTAL__NOSTR__RELAYS: relay.url,
            PORTAL__WALLET__LN_BACKEND: "nwc",
            PORTAL__WALLET__NWC__URL: Redacted.value(nwcUrl),
            PORTAL__RATES__SOURCE: "none"
          }

          // the user: sees the request (checked by @portal/user), answers by hand
          const { keys: userKeys, user } = yield* startUser(relay.url, undefined, {})
          const requests = yield* user.subscribePaymentRequests
          const conversations = Context.get(
            yield* Layer.build(
              Conversation.layer().pipe(
                Layer.provide(Signer.layerLocalKeys(userKeys)),
                Layer.provide(RelayPool.layerNode({ relays: [relay.url], backoff: { initial: "40 millis" } }))
              )
            ),
            Conversation.Conversations
          )

          const first = yield* DaemonProcess.start({ main, dataDir, port, env })
          const streamId = yield* Effect.gen(function* () {
            yield* DaemonProcess.relaysConnected
            return yield* started("/payments/single", {
              main_key: userKeys.publicKey,
              payment_request: { description: "Coffee", amount: 21_000, currency: "Millisats" }
            })
          }).pipe(Effect.provide(first.client))
          const request = Option.getOrThrow(yield* Stream.runHead(requests).pipe(Effect.timeout("20 seconds")))
          assert.strictEqual(request.invoice.amountMsat, 21_000)
          const approved = yield* Messages.encodeContent(Messages.PaymentResponseContent, {
            requestId: request.requestId,
            status: { _tag: "Approved" }
          })
          yield* conversations.send({
            kind: 28001,
            content: approved,
            recipients: [request.serviceKey],
            alsoTag: [userKeys.publicKey]
          })
          const before = yield* awaitEvents(streamId, (events) => events.length > 0).pipe(Effect.provide(first.client))
          assert.deepStrictEqual(before.map(statusOf), ["user_approved"])

          const killed = yield* first.kill("SIGKILL")
          assert.strictEqual(killed.signal, "SIGKILL")
          // paid while the daemon is down
          const payment = yield* (yield* network.wallet("user")).payInvoice(request.invoice.bolt11)

          const second = yield* DaemonProcess.start({ main, dataDir, port, env })
          yield* Effect.gen(function* () {
            const events = yield* awaitEvents(streamId, endsWith("paid", "timeout", "error"))
            assert.deepStrictEqual(events.map(statusOf), ["user_approved", "paid"], JSON.stringify(events))
            const preimage = (events[1]!["status"] as { preimage: string }).preimage
            assert.strictEqual(preimage, payment.preimage)
            assert.isTrue(Bolt11.preimageMatches(preimage, request.invoice.paymentHash))
            assert.deepStrictEqual(
              events.map((e) => e.index),
              [0, 1]
            )
          }).pipe(Effect.provide(second.client))
          assert.strictEqual(yield* network.balanceOf("daemon"), 21_000)
          yield* second.kill("SIGTERM")
        }),
      90_000
    )
  })
})
