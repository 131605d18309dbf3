import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, it } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Messages from "@portal/protocol/Messages"
import { type PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Subkey from "@portal/protocol/Subkey"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Deferred from "effect/Deferred"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const Deps = Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)

const openPool = (relays: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const pool = yield* RelayPool.make({ relays, backoff: { initial: "40 millis" } }).pipe(Effect.provide(Deps))
    yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
    return pool
  })

/** The user side as its own process would run it: its key, pool, signer, JWT issuer. */
const userSide = (relays: ReadonlyArray<string>, options: User.Options = {}) =>
  Effect.gen(function* () {
    const keys = yield* Keys.generate
    const pool = yield* openPool(relays)
    const signer = yield* Signer.makeLocal(keys)
    const user = yield* User.make({ subscribeWait: "1 second", ...options }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool),
      Effect.provideService(Jwt.Jwt, Jwt.make(keys))
    )
    return { keys, pool, user }
  })

/** A service built directly from @portal/nostr (there is no daemon here), optionally signing with a subkey. */
const serviceSide = (relay: string, keys?: Keys.KeyPair, mainKey?: PublicKeyHex) =>
  Effect.gen(function* () {
    const pair = keys ?? (yield* Keys.generate)
    const pool = yield* openPool([relay])
    const signer = yield* Signer.makeLocal(pair)
    const conversations = yield* Conversation.make({
      subscribeWait: "1 second",
      ...(mainKey === undefined ? {} : { mainKey })
    }).pipe(Effect.provideService(Signer.Signer, signer), Effect.provideService(RelayPool.RelayPool, pool))
    return { keys: pair, pool, signer, conversations }
  })

const nowSeconds = Effect.map(Clock.currentTimeMillis, (millis) => Math.floor(millis / 1000))

const challengeContent = (
  challenge: string,
  options: { readonly expiresIn?: number; readonly proof?: Subkey.SubkeyProof } = {}
) =>
  Effect.gen(function* () {
    const now = yield* nowSeconds
    return yield* Messages.encodeContent(Messages.AuthChallengeContent, {
      challenge,
      expiresAt: UnixSeconds.make(now + (options.expiresIn ?? 300)),
      requiredPermissions: [],
      subkeyProof: Option.fromNullable(options.proof)
    })
  })

/** What the daemon's authenticate-key does: one 27000, waiting for the matching 27001. */
const authenticate = (
  service: Effect.Effect.Success<ReturnType<typeof serviceSide>>,
  user: PublicKeyHex,
  challenge: string,
  content: string,
  timeout: Duration.DurationInput = "5 seconds"
) =>
  service.conversations.requestOne({
    kind: 27000,
    content,
    recipient: user,
    replyKinds: [27001],
    reply: Messages.AuthResponseContent,
    matches: (reply) => reply.challenge === challenge,
    subkeyProof: (reply) => reply.subkeyProof,
    timeout
  })

/** A policy that records what it was asked. */
const recording = (decide: Auth.AuthPolicy) =>
  Effect.map(Ref.make<ReadonlyArray<Auth.AuthChallenge>>([]), (seen) => ({
    seen,
    policy: (challenge: Auth.AuthChallenge) =>
      Effect.zipRight(
        Ref.update(seen, (all) => [...all, challenge]),
        decide(challenge)
      )
  }))

const metadataFor = Schema.decodeUnknown(Subkey.SubkeyMetadata)

/** A service main key and a subkey derived from it, with the proof. */
const subkeyPair = Effect.gen(function* () {
  const main = yield* Keys.generate
  const metadata = yield* metadataFor({
    name: "shop-subkey",
    nonce: "11".repeat(32),
    valid_from: "0",
    expires_at: "18446744073709551615",
    permissions: ["auth"],
    version: 2
  })
  const sub = yield* Keys.fromBytes(yield* Subkey.deriveSubkeySecret(Redacted.value(main.secretKey), metadata))
  const proof: Subkey.SubkeyProof = { mainKey: main.publicKey, metadata }
  return { main, sub, proof }
})

/** How an effect ended, as a short string (failing tests then print small values). */
const outcome = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.match(effect, {
    onFailure: (error) =>
      "reason" in error && typeof error.reason === "string" ? `${error._tag}(${error.reason})` : error._tag,
    onSuccess: () => "Success"
  })

const isKind = (kind: number) => (frame: unknown) =>
  typeof frame === "object" && frame !== null && Reflect.get(frame, "kind") === kind

// Each test starts its own relays, user and service: the handshake and challenge tests run concurrently.
describe.concurrent("handshake", () => {
  it.scopedLive("sends one 27010 to the URL's relays only, with token and preferred relays", () =>
    Effect.gen(function* () {
      const userRelay = yield* TestRelay.make
      const serviceRelay = yield* TestRelay.make
      const { keys, pool, user } = yield* userSide([userRelay.url])
      const service = yield* serviceSide(serviceRelay.url)
      const subscription = yield* service.pool.subscription([{ kinds: [27010], "#p": [service.keys.publicKey] }])
      yield* subscription.eose.pipe(Effect.timeout("5 seconds"))

      const url = HandshakeUrl.build({ mainKey: service.keys.publicKey, relays: [serviceRelay.url], token: "tok-1" })
      const sent = yield* user.handshake(url)
      assert.isTrue(RelayPool.isDelivered(sent.published))

      const received = yield* subscription.events.pipe(Stream.runHead, Effect.timeout("5 seconds"))
      assert.isTrue(Option.isSome(received))
      const event = Option.getOrThrow(received)
      assert.strictEqual(event.pubkey, keys.publicKey)
      assert.deepStrictEqual(event.tags, [["p", service.keys.publicKey]])
      const content = yield* service.signer
        .nip44Decrypt(event.pubkey, event.content)
        .pipe(Effect.flatMap((text) => Messages.decodeContent(Messages.KeyHandshakeContent, text)))
      assert.strictEqual(content.token, "tok-1")
      assert.deepStrictEqual(content.preferredRelays, [userRelay.url])
      assert.deepStrictEqual(content.clientInfo, { name: "Portal", version: "0.1.0" })

      // the URL's relay was borrowed for the handshake only; the user's relay never saw the 27010
      assert.deepStrictEqual(
        (yield* pool.status).map((status) => status.url),
        [userRelay.url]
      )
      assert.strictEqual((yield* userRelay.received).filter(isKind(27010)).length, 0)
      assert.strictEqual((yield* serviceRelay.received).filter(isKind(27010)).length, 1)
    })
  )

  it.scopedLive("with a subkey in the URL: encrypted to the subkey, p-tags main then subkey", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { main, sub } = yield* subkeyPair
      const { user } = yield* userSide([relay.url], { relays: ["wss://relay.example.com"] })
      const service = yield* serviceSide(relay.url, sub, main.publicKey)
      const subscription = yield* service.pool.subscription([{ kinds: [27010], "#p": [sub.publicKey, main.publicKey] }])
      yield* subscription.eose.pipe(Effect.timeout("5 seconds"))

      yield* user.handshake(
        HandshakeUrl.build({ mainKey: main.publicKey, subkey: sub.publicKey, relays: [relay.url], token: "tok-sub" })
      )
      const event = Option.getOrThrow(yield* subscription.events.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.deepStrictEqual(event.tags, [
        ["p", main.publicKey],
        ["p", sub.publicKey]
      ])
      const content = yield* service.signer
        .nip44Decrypt(event.pubkey, event.content)
        .pipe(Effect.flatMap((text) => Messages.decodeContent(Messages.KeyHandshakeContent, text)))
      assert.strictEqual(content.token, "tok-sub")
      assert.deepStrictEqual(content.preferredRelays, ["wss://relay.example.com"])
    })
  )

  it.scopedLive("fails with NotDelivered when no relay of the URL accepts it, and gives the relay back", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const dead = yield* TestRelay.make
      yield* dead.stop
      const { pool, user } = yield* userSide([relay.url], { publishTimeout: "1 second" })
      const service = yield* Keys.generate
      const ended = yield* outcome(
        user.handshake(HandshakeUrl.build({ mainKey: service.publicKey, relays: [dead.url], token: "t" }))
      )
      assert.strictEqual(ended, "UserSendFailed(NotDelivered)")
      assert.deepStrictEqual(
        (yield* pool.status).map((status) => status.url),
        [relay.url]
      )
    })
  )

  it.scopedLive("refuses a URL that is not a portal:// URL", () =>
    Effect.gen(function* () {
      const { user } = yield* userSide([])
      const ended = yield* outcome(user.handshake("https://example.com/?token=x"))
      assert.match(ended, /^HandshakeUrlError/)
    })
  )
})

describe.concurrent("auth challenges", () => {
  it.scopedLive("approve: the service gets approved with a JWT for its key, user_key = the user", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      const { policy, seen } = yield* recording(Auth.approveAll)
      yield* user.listen({ auth: policy })

      const reply = yield* authenticate(service, keys.publicKey, "c-approve", yield* challengeContent("c-approve"))
      assert.strictEqual(reply.mainKey, keys.publicKey)
      assert.strictEqual(reply.author, keys.publicKey)
      assert.deepStrictEqual(
        [...new Set(reply.event.tags.filter((tag) => tag[0] === "p").map((tag) => tag[1]))],
        [service.keys.publicKey]
      )
      const status = reply.message.status
      assert.strictEqual(status._tag, "Approved")
      if (status._tag !== "Approved") return
      assert.deepStrictEqual(status.grantedPermissions, [])
      // the app's session token: a JWT by the user for the service key, valid 168 h
      const claims = yield* Jwt.verify(status.sessionToken, keys.publicKey, yield* nowSeconds)
      assert.strictEqual(claims.targetKey, service.keys.publicKey)
      assert.strictEqual(claims.expiresAt - Option.getOrThrow(claims.iat), 168 * 3600)

      const asked = yield* Ref.get(seen)
      assert.strictEqual(asked.length, 1)
      assert.strictEqual(asked[0]?.serviceKey, service.keys.publicKey)
      assert.strictEqual(asked[0]?.recipient, service.keys.publicKey)
      assert.strictEqual(asked[0]?.challenge, "c-approve")
    })
  )

  it.scopedLive("40 users on one relay connection, 40 challenges in flight from one service: every one approved", () =>
    Effect.gen(function* () {
      // the loopback relay keeps 20 subscriptions per connection and silently forgets older ones: both sides have
      // more than that here (the users' listeners on one connection, the service's conversations on another)
      const relay = yield* TestRelay.make
      const pool = yield* openPool([relay.url])
      const users = yield* Effect.forEach(Array.from({ length: 40 }), () =>
        Effect.gen(function* () {
          const keys = yield* Keys.generate
          const user = yield* User.make({ subscribeWait: "2 seconds" }).pipe(
            Effect.provideService(Signer.Signer, yield* Signer.makeLocal(keys)),
            Effect.provideService(RelayPool.RelayPool, pool),
            Effect.provideService(Jwt.Jwt, Jwt.make(keys))
          )
          yield* user.listen({ auth: Auth.approveAll })
          return keys
        })
      )
      const service = yield* serviceSide(relay.url)
      const replies = yield* Effect.forEach(
        users,
        (keys, i) =>
          Effect.flatMap(challengeContent(`c-${i}`), (content) =>
            authenticate(service, keys.publicKey, `c-${i}`, content, "20 seconds")
          ),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        replies.map((reply) => [reply.mainKey, reply.message.status._tag]),
        users.map((keys) => [keys.publicKey, "Approved"])
      )
      assert.strictEqual(yield* relay.connections, 2)
    })
  )

  it.scopedLive("a session token chosen by the policy is sent as is", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      yield* user.listen({
        auth: (challenge) =>
          Effect.succeed(
            Auth.approve({ sessionToken: `session-for-${challenge.challenge}`, grantedPermissions: ["a"] })
          )
      })
      const reply = yield* authenticate(service, keys.publicKey, "c-own", yield* challengeContent("c-own"))
      assert.deepStrictEqual(reply.message.status, {
        _tag: "Approved",
        sessionToken: "session-for-c-own",
        grantedPermissions: ["a"]
      })
    })
  )

  it.scopedLive("decline: the service gets declined with the app's reason", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      yield* user.listen({ auth: Auth.declineAll() })
      const reply = yield* authenticate(service, keys.publicKey, "c-decline", yield* challengeContent("c-decline"))
      assert.strictEqual(reply.mainKey, keys.publicKey)
      assert.deepStrictEqual(reply.message.status, { _tag: "Declined", reason: Option.some("Not approved by user") })
    })
  )

  it.scopedLive("an expired challenge reaches no policy and gets no reply", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      const { policy, seen } = yield* recording(Auth.approveAll)
      yield* user.listen({ auth: policy })
      const ended = yield* outcome(
        authenticate(service, keys.publicKey, "c-old", yield* challengeContent("c-old", { expiresIn: -5 }), "2 seconds")
      )
      assert.strictEqual(ended, "ConversationTimeout")
      assert.strictEqual((yield* Ref.get(seen)).length, 0)
      assert.strictEqual((yield* relay.received).filter(isKind(27001)).length, 0)
    })
  )

  it.scopedLive("a service on a subkey: the challenge is attributed to its main key, the reply tags both", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { main, proof, sub } = yield* subkeyPair
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url, sub, main.publicKey)
      const { policy, seen } = yield* recording(Auth.approveAll)
      yield* user.listen({ auth: policy })
      const reply = yield* authenticate(service, keys.publicKey, "c-sub", yield* challengeContent("c-sub", { proof }))
      const asked = yield* Ref.get(seen)
      assert.strictEqual(asked[0]?.serviceKey, main.publicKey)
      assert.strictEqual(asked[0]?.recipient, sub.publicKey)
      // the p-tag set {service main key, recipient}, in no particular order
      const pTags = reply.event.tags.filter((tag) => tag[0] === "p").map((tag) => tag[1])
      assert.strictEqual(pTags.length, 2)
      assert.deepStrictEqual(new Set(pTags), new Set([main.publicKey, sub.publicKey]))
      const status = reply.message.status
      assert.strictEqual(status._tag, "Approved")
      if (status._tag !== "Approved") return
      const claims = yield* Jwt.verify(status.sessionToken, keys.publicKey, yield* nowSeconds)
      assert.strictEqual(claims.targetKey, main.publicKey)
    })
  )

  it.scopedLive("a challenge with a subkey proof that does not derive its signer is ignored", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { proof } = yield* subkeyPair
      const impostor = yield* Keys.generate // claims to be a subkey of the proof's main key
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url, impostor, proof.mainKey)
      const { policy, seen } = yield* recording(Auth.approveAll)
      yield* user.listen({ auth: policy })
      const ended = yield* outcome(
        authenticate(service, keys.publicKey, "c-forged", yield* challengeContent("c-forged", { proof }), "2 seconds")
      )
      assert.strictEqual(ended, "ConversationTimeout")
      assert.strictEqual((yield* Ref.get(seen)).length, 0)
    })
  )

  it.scopedLive("the same challenge delivered three times is decided and answered once", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      const { policy, seen } = yield* recording(Auth.approveAll)
      yield* user.listen({ auth: policy })
      const replies = yield* service.pool.subscription([
        { kinds: [27001], authors: [keys.publicKey], "#p": [service.keys.publicKey] }
      ])
      yield* replies.eose.pipe(Effect.timeout("5 seconds"))

      const content = yield* challengeContent("c-dup")
      const event = yield* service.signer
        .nip44Encrypt(keys.publicKey, content)
        .pipe(
          Effect.flatMap((ciphertext) =>
            Signer.signNow(service.signer, { kind: 27000, content: ciphertext, tags: [["p", keys.publicKey]] })
          )
        )
      yield* service.pool.publish(event)
      yield* service.pool.publish(event)
      yield* relay.inject(event)

      const answers = yield* replies.events.pipe(
        Stream.interruptWhen(Effect.sleep("2 seconds")),
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray)
      )
      assert.strictEqual(answers.length, 1)
      assert.strictEqual((yield* Ref.get(seen)).length, 1)
    })
  )

  it.scopedLive("authChallenges + respond: a second answer and a late answer are refused", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      const challenges = yield* user.subscribeAuthChallenges
      const replyFiber = yield* authenticate(
        service,
        keys.publicKey,
        "c-manual",
        yield* challengeContent("c-manual")
      ).pipe(Effect.fork)

      const challenge = Option.getOrThrow(yield* challenges.pipe(Stream.runHead, Effect.timeout("5 seconds")))
      assert.strictEqual(challenge.challenge, "c-manual")
      const sent = yield* user.respond(challenge, Auth.decline("not now"))
      assert.deepStrictEqual(sent.content.status, { _tag: "Declined", reason: Option.some("not now") })
      const reply = yield* replyFiber
      assert.deepStrictEqual(reply.message.status, { _tag: "Declined", reason: Option.some("not now") })

      assert.strictEqual(yield* outcome(user.respond(challenge, Auth.approve())), "UserAlreadyAnswered")

      const now = yield* nowSeconds
      const late = yield* outcome(
        user.respond({ ...challenge, eventId: "0".repeat(64), expiresAt: UnixSeconds.make(now - 1) }, Auth.approve())
      )
      assert.strictEqual(late, "UserRequestExpired")
    })
  )
})

describe("policies", () => {
  it.scopedLive("approveOnly approves the listed services and declines the others", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const trusted = yield* serviceSide(relay.url)
      const stranger = yield* serviceSide(relay.url)
      yield* user.listen({ auth: Auth.approveOnly([trusted.keys.publicKey], "unknown service") })
      const [fromTrusted, fromStranger] = yield* Effect.all(
        [
          Effect.flatMap(challengeContent("c-t"), (content) => authenticate(trusted, keys.publicKey, "c-t", content)),
          Effect.flatMap(challengeContent("c-s"), (content) => authenticate(stranger, keys.publicKey, "c-s", content))
        ],
        { concurrency: "unbounded" }
      )
      assert.strictEqual(fromTrusted.message.status._tag, "Approved")
      assert.deepStrictEqual(fromStranger.message.status, { _tag: "Declined", reason: Option.some("unknown service") })
    })
  )

  it.scopedLive("Ignore and a failing policy send nothing; a slow decision does not hold up the others", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      // the slow decision is held until the fast one has been answered: if it held up the others, nothing would move
      const slowStarted = yield* Deferred.make<void>()
      const slowMayDecide = yield* Deferred.make<void>()
      yield* user.listen({
        auth: (challenge) =>
          challenge.challenge === "c-ignore"
            ? Effect.succeed(Auth.ignore)
            : challenge.challenge === "c-fail"
              ? Effect.fail("policy crashed")
              : challenge.challenge === "c-slow"
                ? Deferred.succeed(slowStarted, undefined).pipe(
                    Effect.zipRight(Deferred.await(slowMayDecide)),
                    Effect.as(Auth.approve({ sessionToken: "slow" }))
                  )
                : Effect.succeed(Auth.approve({ sessionToken: "fast" }))
      })
      // unanswered ones end at a short timeout; answered ones have all the time a loaded machine needs
      const ask = (challenge: string, timeout: Duration.DurationInput = "10 seconds") =>
        Effect.flatMap(challengeContent(challenge), (content) =>
          Effect.match(authenticate(service, keys.publicKey, challenge, content, timeout), {
            onFailure: (error) => error._tag,
            onSuccess: ({ message: { status } }) =>
              status._tag === "Approved" ? `Replied ${status.sessionToken}` : `Replied ${status._tag}`
          })
        )
      const others = yield* Effect.fork(
        Effect.all([ask("c-ignore", "3 seconds"), ask("c-fail", "3 seconds"), ask("c-slow")], {
          concurrency: "unbounded"
        })
      )
      yield* Deferred.await(slowStarted).pipe(Effect.timeout("10 seconds"))
      assert.strictEqual(yield* ask("c-fast"), "Replied fast")
      yield* Deferred.succeed(slowMayDecide, undefined)
      const [ignored, failed, slow] = yield* Fiber.join(others)
      assert.strictEqual(ignored, "ConversationTimeout")
      assert.strictEqual(failed, "ConversationTimeout")
      assert.strictEqual(slow, "Replied slow")
    })
  )

  it.scopedLive("serve answers until it is interrupted, then nothing more", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const { keys, user } = yield* userSide([relay.url])
      const service = yield* serviceSide(relay.url)
      const serving = yield* Effect.fork(user.serve({ auth: Auth.approveAll }))
      // serve has no readiness signal: give the relay a moment to register the REQ
      yield* Effect.sleep("500 millis")
      const before = yield* outcome(
        Effect.flatMap(challengeContent("c-1"), (content) => authenticate(service, keys.publicKey, "c-1", content))
      )
      assert.strictEqual(before, "Success")
      yield* Fiber.interrupt(serving)
      const after = yield* outcome(
        Effect.flatMap(challengeContent("c-2"), (content) =>
          authenticate(service, keys.publicKey, "c-2", content, "2 seconds")
        )
      )
      assert.strictEqual(after, "ConversationTimeout")
    })
  )
})

describe("layers", () => {
  it.scopedLive("layerLocal: one key for the signer, the JWT issuer and the user", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const keys = yield* Keys.generate
      const pool = yield* openPool([relay.url])
      const context = yield* Layer.build(
        User.layerLocal({ secretKey: Keys.nsec(keys) }).pipe(Layer.provide(Layer.succeed(RelayPool.RelayPool, pool)))
      )
      const user = yield* Effect.provide(User.User, context)
      const jwt = yield* Effect.provide(Jwt.Jwt, context)
      assert.strictEqual(user.publicKey, keys.publicKey)
      assert.strictEqual(jwt.publicKey, keys.publicKey)
    })
  )

  it.scopedLive("refuses a Jwt service over another key", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const pool = yield* openPool([relay.url])
      const keys = yield* Keys.generate
      const other = yield* Keys.generate
      const ended = yield* outcome(
        User.make().pipe(
          Effect.provideService(Signer.Signer, yield* Signer.makeLocal(keys)),
          Effect.provideService(RelayPool.RelayPool, pool),
          Effect.provideService(Jwt.Jwt, Jwt.make(other))
        )
      )
      assert.strictEqual(ended, "UserKeyMismatch")
    })
  )
})
