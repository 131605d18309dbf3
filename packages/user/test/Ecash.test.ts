import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, it } from "@effect/vitest"
import * as Cashu from "@portal/cashu/Cashu"
import * as ProofStore from "@portal/cashu/ProofStore"
import * as Token from "@portal/cashu/Token"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Messages from "@portal/protocol/Messages"
import { UnixSeconds } from "@portal/protocol/Primitives"
import * as CashuMint from "@portal/testing/CashuMint"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Ecash from "@portal/user/Ecash"
import * as Wallet from "@portal/wallet/Wallet"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"

const staticAuth = Redacted.make("box-office")

const openPool = (relay: string) =>
  RelayPool.make({ relays: [relay], backoff: { initial: "40 millis" } }).pipe(
    Effect.provide(Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)),
    Effect.tap((pool) => pool.awaitOpen().pipe(Effect.timeout("5 seconds")))
  )

const cashuService = Cashu.make().pipe(
  Effect.provide(Layer.mergeAll(FetchHttpClient.layer, Wallet.layerNone, ProofStore.layerMemory))
)

/** A relay, a ticket mint, the user's ecash (serving with `policy`) and a service side speaking as the daemon. */
const setup = (policy?: Ecash.Policy) =>
  Effect.gen(function* () {
    const relay = yield* TestRelay.make
    const mint = yield* CashuMint.make({ units: ["sat", "ticket"], staticAuthToken: staticAuth })
    const cashu = yield* cashuService

    const userKeys = yield* Keys.generate
    const userSigner = yield* Signer.makeLocal(userKeys)
    const userPool = yield* openPool(relay.url)
    const userConversations = yield* Conversation.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, userSigner),
      Effect.provideService(RelayPool.RelayPool, userPool)
    )
    const ecash = yield* Ecash.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, userSigner),
      Effect.provideService(RelayPool.RelayPool, userPool),
      Effect.provideService(Conversation.Conversations, userConversations),
      Effect.provideService(Cashu.Cashu, cashu)
    )
    yield* ecash.serve(policy)

    const serviceKeys = yield* Keys.generate
    const service = yield* Conversation.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, yield* Signer.makeLocal(serviceKeys)),
      Effect.provideService(RelayPool.RelayPool, yield* openPool(relay.url))
    )
    const tickets = (amount: number) =>
      cashu.mint({ mintUrl: mint.url, unit: "ticket", amount, staticAuthToken: staticAuth })
    return { mint, cashu, ecash, service, userKey: userKeys.publicKey, serviceKey: serviceKeys.publicKey, tickets }
  })

type Setup = Effect.Effect.Success<ReturnType<typeof setup>>

/** What the daemon's 29502 does. */
const sendDirect = (s: Setup, token: string) =>
  Effect.gen(function* () {
    const content = yield* Messages.encodeContent(Messages.CashuDirectContent, { token })
    yield* s.service.send({ kind: 29502, content, recipients: [s.userKey] })
  })

/** What the daemon's 29500 does: the request, then the first 29501 for it. */
const requestCashu = (s: Setup, amount: number, unit = "ticket") =>
  Effect.gen(function* () {
    const requestId = randomUUID()
    const content = yield* Messages.encodeContent(Messages.CashuRequestContent, {
      requestId,
      mintUrl: s.mint.url,
      unit,
      amount,
      expiresAt: UnixSeconds.make(Math.floor((yield* Clock.currentTimeMillis) / 1000) + 300)
    })
    const reply = yield* s.service.requestOne({
      kind: 29500,
      content,
      recipient: s.userKey,
      replyKinds: [29501],
      reply: Messages.CashuResponseContent,
      matches: (r) => r.request.inner.requestId === requestId,
      timeout: "10 seconds"
    })
    assert.strictEqual(reply.message.request.inner.requestId, requestId)
    assert.strictEqual(reply.message.request.mainKey, s.serviceKey)
    return reply.message.status
  })

/** Waits until the user's balance of tickets is `amount`. */
const awaitTickets = (s: Setup, amount: number) =>
  s.ecash.changes.pipe(
    Stream.filter((balances) => balances.some((b) => b.unit === "ticket" && b.amount === amount)),
    Stream.runHead,
    Effect.timeout("10 seconds")
  )

describe("Ecash", () => {
  it.scopedLive("a direct token lands in the balance once, even when sent twice", () =>
    Effect.gen(function* () {
      const s = yield* setup()
      const token = yield* s.tickets(3)
      const activity = yield* (yield* s.ecash.activity).pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* sendDirect(s, token)
      yield* awaitTickets(s, 3)
      const [received] = yield* activity
      assert.deepStrictEqual(received, {
        _tag: "Received",
        eventId: (received as { eventId: string }).eventId,
        amount: 3,
        unit: "ticket"
      })
      // the same token again (a new event): ignored, the balance stays
      yield* sendDirect(s, token)
      const five = yield* s.tickets(2)
      yield* sendDirect(s, five)
      yield* awaitTickets(s, 5)
      assert.deepStrictEqual(yield* s.ecash.balances, [{ mintUrl: s.mint.url, unit: "ticket", amount: 5 }])
      // the original token was swapped: it is spent at the mint
      assert.isTrue((yield* s.cashu.checkStates(token)).every((state) => state === "SPENT"))
    })
  )

  it.scopedLive("an approved request is paid from the balance with an exact, spendable token", () =>
    Effect.gen(function* () {
      const s = yield* setup(Ecash.approveAll)
      yield* s.ecash.receive(yield* s.tickets(5))
      const status = yield* requestCashu(s, 2)
      assert.strictEqual(status._tag, "Success")
      const token = status._tag === "Success" ? status.token : ""
      assert.strictEqual((yield* Token.decode(token)).amount, 2)
      assert.strictEqual(yield* s.ecash.balance(s.mint.url, "ticket"), 3)
      const burned = yield* s.cashu.burn({ mintUrl: s.mint.url, unit: "ticket", token })
      assert.strictEqual(burned.amount, 2)
    })
  )

  it.scopedLive("too little answers insufficient_funds without asking; a declining policy rejects", () =>
    Effect.gen(function* () {
      let asked = 0
      const s = yield* setup((request) =>
        Effect.sync(() => {
          asked++
          return request.amount > 1 ? { _tag: "Reject" } : { _tag: "Reject", reason: "not today" }
        })
      )
      yield* s.ecash.receive(yield* s.tickets(2))
      assert.strictEqual((yield* requestCashu(s, 3))._tag, "InsufficientFunds")
      assert.strictEqual((yield* requestCashu(s, 1, "sat"))._tag, "InsufficientFunds")
      assert.strictEqual(asked, 0)
      const declined = yield* requestCashu(s, 2)
      assert.deepStrictEqual(declined, { _tag: "Rejected", reason: Option.some(Ecash.DEFAULT_REJECT_REASON) })
      assert.deepStrictEqual(yield* requestCashu(s, 1), { _tag: "Rejected", reason: Option.some("not today") })
      assert.strictEqual(asked, 2)
      assert.strictEqual(yield* s.ecash.balance(s.mint.url, "ticket"), 2)
    })
  )
})
