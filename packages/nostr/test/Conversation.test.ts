import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, it } from "@effect/vitest"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import { ConversationTimeout } from "@portal/nostr/NostrError"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Subkey from "@portal/protocol/Subkey"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const Deps = Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)

/** One participant: its own key, signer, pool and conversation service, like a separate process. */
const participant = (url: string, keys?: Keys.KeyPair) =>
  Effect.gen(function* () {
    const pair = keys ?? (yield* Keys.generate)
    const signer = yield* Signer.makeLocal(pair)
    const pool = yield* RelayPool.make({ relays: [url], backoff: { initial: "40 millis" } }).pipe(Effect.provide(Deps))
    yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
    const conversations = yield* Conversation.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool)
    )
    return { keys: pair, signer, pool, conversations }
  })

const Challenge = Schema.Struct({ challenge: Schema.String })
const Response = Schema.Struct({
  challenge: Schema.String,
  status: Schema.String,
  subkey_proof: Schema.optional(Schema.NullOr(Subkey.SubkeyProof))
})
type Response = typeof Response.Type

const authRequest = (
  recipient: PublicKeyHex,
  challenge: string,
  extra: Partial<Conversation.RequestOptions<Response, typeof Response.Encoded>> = {}
) =>
  ({
    kind: 27000,
    content: JSON.stringify({ challenge }),
    recipient,
    replyKinds: [27001],
    reply: Response,
    matches: (reply: Response) => reply.challenge === challenge,
    subkeyProof: (reply: Response) => Option.fromNullable(reply.subkey_proof),
    timeout: "5 seconds",
    ...extra
  }) satisfies Conversation.RequestOptions<Response, typeof Response.Encoded>

describe("Conversation on a real relay", () => {
  it.scopedLive("request → typed reply from the recipient, attributed to its key", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const service = yield* participant(relay.url)
      const wallet = yield* participant(relay.url)
      // the wallet answers the first challenge it hears
      yield* wallet.conversations.listen({ kinds: [27000], message: Challenge }).pipe(
        Stream.take(1),
        Stream.runForEach((incoming) =>
          wallet.conversations.send({
            kind: 27001,
            content: JSON.stringify({ challenge: incoming.message.challenge, status: "approved" }),
            recipients: [incoming.sender]
          })
        ),
        Effect.forkScoped
      )
      const reply = yield* service.conversations.requestOne(authRequest(wallet.keys.publicKey, "c-1"))
      assert.deepStrictEqual(reply.message, { challenge: "c-1", status: "approved" })
      assert.strictEqual(reply.author, wallet.keys.publicKey)
      assert.strictEqual(reply.mainKey, wallet.keys.publicKey)
      assert.deepStrictEqual(reply.event.tags, [["p", service.keys.publicKey]])
      // the request itself went out encrypted, tagged for the wallet
      const stored = (yield* relay.received).filter(
        (e): e is { kind: number; content: string; tags: Array<Array<string>> } =>
          typeof e === "object" && e !== null && "kind" in e && e.kind === 27000
      )
      assert.lengthOf(stored, 1)
      assert.notInclude(stored[0]!.content, "c-1")
      assert.deepStrictEqual(stored[0]!.tags, [["p", wallet.keys.publicKey]])
    })
  )

  it.scopedLive(
    "ignores replies from the wrong author, with the wrong challenge or a bad signature; expires on a timer",
    () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.make
        const service = yield* participant(relay.url)
        const wallet = yield* participant(relay.url)
        const intruder = yield* participant(relay.url)
        const answer = (from: typeof wallet, challenge: string, status: string) =>
          from.conversations.send({
            kind: 27001,
            content: JSON.stringify({ challenge, status }),
            recipients: [service.keys.publicKey]
          })
        yield* wallet.conversations.listen({ kinds: [27000], message: Challenge }).pipe(
          Stream.take(1),
          Stream.runForEach((incoming) =>
            Effect.gen(function* () {
              const challenge = incoming.message.challenge
              yield* answer(intruder, challenge, "from the intruder")
              yield* answer(wallet, "another-challenge", "wrong challenge")
              // the wallet's own key, a matching reply, but a signature that is not the wallet's
              const ciphertext = yield* wallet.signer.nip44Encrypt(
                service.keys.publicKey,
                JSON.stringify({ challenge, status: "forged" })
              )
              const genuine = yield* Signer.signNow(wallet.signer, {
                kind: 27001,
                content: ciphertext,
                tags: [["p", service.keys.publicKey]]
              })
              const other = yield* Signer.signNow(intruder.signer, { kind: 27001, content: "x" })
              yield* relay.inject({ ...genuine, sig: other.sig })
              yield* answer(wallet, challenge, "approved")
              // a duplicate of the genuine answer is tolerated
              yield* answer(wallet, challenge, "approved again")
            })
          ),
          Effect.forkScoped
        )
        const started = Date.now()
        const result = yield* service.conversations
          .request(authRequest(wallet.keys.publicKey, "c-2", { isFinal: () => false, timeout: "2500 millis" }))
          .pipe(
            Stream.map((reply) => reply.message.status),
            Stream.either,
            Stream.runCollect,
            Effect.map(Chunk.toReadonlyArray)
          )
        const elapsed = Date.now() - started
        assert.deepStrictEqual(
          result.filter(Either.isRight).map((r) => r.right),
          ["approved", "approved again"]
        )
        const last = result[result.length - 1]
        assert.isTrue(last !== undefined && Either.isLeft(last) && last.left instanceof ConversationTimeout)
        assert.isAtLeast(elapsed, 2400)
        assert.isBelow(elapsed, 6000)
      })
  )

  it.scopedLive("times out when nobody answers", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const service = yield* participant(relay.url)
      const absent = yield* Keys.generate
      const started = Date.now()
      const error = yield* Effect.flip(
        service.conversations.requestOne(authRequest(absent.publicKey, "c-3", { timeout: "400 millis" }))
      )
      assert.instanceOf(error, ConversationTimeout)
      assert.strictEqual(error instanceof ConversationTimeout ? error.kind : 0, 27000)
      assert.isAtLeast(Date.now() - started, 390)
    })
  )

  it.scopedLive("a multi-reply conversation streams statuses until the final one", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const service = yield* participant(relay.url)
      const wallet = yield* participant(relay.url)
      const Payment = Schema.Struct({ request_id: Schema.String, status: Schema.String })
      yield* wallet.conversations
        .listen({ kinds: [28000], message: Schema.Struct({ request_id: Schema.String }) })
        .pipe(
          Stream.take(1),
          Stream.runForEach((incoming) =>
            Effect.forEach(["approved", "success", "late"], (status) =>
              wallet.conversations.send({
                kind: 28001,
                content: JSON.stringify({ request_id: incoming.message.request_id, status }),
                recipients: [incoming.sender]
              })
            )
          ),
          Effect.forkScoped
        )
      const statuses = yield* service.conversations
        .request({
          kind: 28000,
          content: JSON.stringify({ request_id: "r-1" }),
          recipient: wallet.keys.publicKey,
          replyKinds: [28001],
          reply: Payment,
          matches: (reply) => reply.request_id === "r-1",
          isFinal: (reply) => reply.status !== "approved",
          timeout: "5 seconds"
        })
        .pipe(
          Stream.map((reply) => reply.message.status),
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray)
        )
      assert.deepStrictEqual(statuses, ["approved", "success"])
    })
  )

  it.scopedLive(
    "learns a subkey from a kind-30000 proof, re-sends to it, and attributes its reply to the main key",
    () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.make
        const service = yield* participant(relay.url)
        const master = yield* Keys.generate
        const metadata = Schema.decodeUnknownSync(Subkey.SubkeyMetadata)({
          name: "wallet-subkey",
          nonce: "ab".repeat(32),
          valid_from: "0",
          expires_at: "18446744073709551615",
          permissions: ["auth"],
          version: 2
        })
        const subSecret = yield* Subkey.deriveSubkeySecret(Redacted.value(master.secretKey), metadata)
        const subkeyPair = yield* Keys.fromBytes(subSecret)
        const proofJson = JSON.stringify(Schema.encodeSync(Subkey.SubkeyProof)({ mainKey: master.publicKey, metadata }))
        // the wallet only runs on its subkey: it cannot read the copy sent to the main key
        const wallet = yield* participant(relay.url, subkeyPair)
        yield* wallet.conversations.listen({ kinds: [27000], message: Challenge }).pipe(
          Stream.take(1),
          Stream.runForEach((incoming) =>
            wallet.conversations.send({
              kind: 27001,
              content: JSON.stringify({ challenge: incoming.message.challenge, status: "approved" }),
              recipients: [incoming.sender]
            })
          ),
          Effect.forkScoped
        )
        // …so it answers the undecryptable copy with its proof, as a listener on a subkey does (§11.6)
        yield* wallet.pool.subscribe([{ kinds: [27000], "#p": [master.publicKey] }]).pipe(
          Stream.take(1),
          Stream.runForEach((event) =>
            wallet.conversations.send({
              kind: 30000,
              content: proofJson,
              recipients: [event.pubkey],
              tags: [["e", event.id]]
            })
          ),
          Effect.forkScoped
        )
        const reply = yield* service.conversations.requestOne(authRequest(master.publicKey, "c-5"))
        assert.strictEqual(reply.author, subkeyPair.publicKey)
        assert.strictEqual(reply.mainKey, master.publicKey)
        assert.strictEqual(reply.message.status, "approved")
      })
  )
})
