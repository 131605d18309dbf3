import { assert, describe, it } from "@effect/vitest"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as TestRelayPool from "@portal/nostr/TestRelayPool"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

describe("TestRelayPool", () => {
  it.scoped(
    "delivers published events to matching subscriptions once, rejects forgeries, stores non-ephemeral ones",
    () =>
      Effect.gen(function* () {
        const pool = yield* TestRelayPool.make
        const keys = yield* Keys.generate
        const sub = yield* pool.subscription([{ kinds: [1] }])
        const event = yield* Event.signWith(keys, yield* Event.template({ kind: 1, content: "x" }))
        assert.isTrue(RelayPool.isDelivered(yield* pool.publish(event)))
        yield* pool.publish(event)
        const forged = { ...event, content: "y" }
        assert.isFalse(RelayPool.isDelivered(yield* pool.publish(forged)))
        const ephemeral = yield* Event.signWith(keys, yield* Event.template({ kind: 27000, content: "e" }))
        yield* pool.publish(ephemeral)
        const got = yield* Stream.runHead(sub.events)
        assert.deepStrictEqual(Option.getOrThrow(got), event)
        assert.deepStrictEqual(yield* pool.query([{ kinds: [1, 27000] }]), [event])
      })
  )

  it.scopedLive("carries a conversation between two signers", () =>
    Effect.gen(function* () {
      const pool = yield* TestRelayPool.make
      const service = yield* Signer.makeLocal(yield* Keys.generate)
      const wallet = yield* Signer.makeLocal(yield* Keys.generate)
      const conversationsOf = (signer: Signer.Service) =>
        Conversation.make({ subscribeWait: 0 }).pipe(
          Effect.provideService(Signer.Signer, signer),
          Effect.provideService(RelayPool.RelayPool, pool)
        )
      const serviceSide = yield* conversationsOf(service)
      const walletSide = yield* conversationsOf(wallet)
      const Message = Schema.Struct({ id: Schema.String })
      yield* walletSide.listen({ kinds: [28000], message: Message }).pipe(
        Stream.take(1),
        Stream.runForEach((incoming) =>
          walletSide.send({ kind: 28001, content: JSON.stringify(incoming.message), recipients: [incoming.sender] })
        ),
        Effect.forkScoped
      )
      yield* Effect.yieldNow()
      const reply = yield* serviceSide.requestOne({
        kind: 28000,
        content: JSON.stringify({ id: "r-9" }),
        recipient: wallet.publicKey,
        replyKinds: [28001],
        reply: Message,
        matches: (message) => message.id === "r-9",
        timeout: "5 seconds"
      })
      assert.strictEqual(reply.author, wallet.publicKey)
    })
  )
})
