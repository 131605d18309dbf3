/**
 * End to end: the real daemon HTTP application (random loopback port) over a real SQLite file and a real loopback
 * relay, and the user side from `@portal/user` on its own relay pool. Short timeouts through `Services.layer`
 * options instead of 300 s. The authentication tests run concurrently: each has its own daemon, SQLite file and users
 * on the shared relay.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Nip44 from "@portal/nostr/Nip44"
import * as Kinds from "@portal/protocol/Kinds"
import * as Messages from "@portal/protocol/Messages"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Subkey from "@portal/protocol/Subkey"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { authed, jsonRequest, layer as serverLayer, nip05Host, nip05User, send, sendJson } from "./HttpServerTest.js"
import {
  awaitCount,
  awaitRecordedSent,
  databaseFile,
  post,
  startedStream,
  startUser as startPayingUser,
  streamEvents
} from "./PaymentsHarness.js"

/** The daemon on `file` with `keys`, connected to `relay`; its context (HttpClient aimed at it, RelayPool, …). */
const startDaemon = (
  relay: string,
  file: string,
  keys: Keys.KeyPair,
  timeouts: { readonly handshake?: Duration.DurationInput; readonly auth?: Duration.DurationInput } = {},
  subkeyProof?: Subkey.SubkeyProof
) =>
  Effect.gen(function* () {
    const services = Services.layer({
      keys,
      subkeyProof,
      relays: [relay],
      handshakeTimeout: timeouts.handshake ?? "20 seconds",
      authTimeout: timeouts.auth ?? "20 seconds",
      pool: { backoff: { initial: "40 millis" } },
      subscribeWait: "1 second",
      httpClient: nip05Host
    }).pipe(Layer.provideMerge(Store.layerSqlite({ filename: file, retention: false })), Layer.orDie)
    const servicesContext = yield* Layer.build(services)
    const context = yield* Layer.build(serverLayer({}, {}, {}, Layer.succeedContext(servicesContext)))
    // the 27010 listener's REQ goes out once the pool is open
    yield* Context.get(servicesContext, RelayPool.RelayPool).awaitOpen().pipe(Effect.timeout("5 seconds"))
    yield* Effect.sleep("200 millis")
    // the HTTP client for the server, and the services (its store) for what only they show
    return Context.merge(servicesContext, context)
  })

/** The user side with its own key on its own pool (no wallet); answers challenges with `policy`. */
const startUser = (relay: string, policy: Auth.AuthPolicy) => startPayingUser(relay, undefined, { auth: policy })

const timestampFormat = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/

describe.concurrent("authentication flow", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("handshake → key_handshake with the user's key → authenticate-key → approved with a session token", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemonKeys = yield* Keys.generate
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, daemonKeys)
        const { keys: userKeys, user } = yield* startUser(relay.url, Auth.approveAll)
        yield* Effect.gen(function* () {
          const handshake = yield* startedStream("/key-handshake", {})
          // stored before the 201: polling right away answers an empty list
          assert.deepStrictEqual(yield* streamEvents(handshake.stream_id), [])
          yield* user.handshake(handshake.url!)
          const [event] = yield* awaitCount(handshake.stream_id, 1)
          assert.strictEqual(event!.index, 0)
          assert.strictEqual(event!.type, "key_handshake")
          assert.strictEqual(event!["main_key"], userKeys.publicKey)
          assert.deepStrictEqual(event!["preferred_relays"], [relay.url])
          assert.match(event!.timestamp, timestampFormat)
          // `after` is exclusive
          assert.deepStrictEqual(yield* streamEvents(handshake.stream_id, 0), [])
          assert.lengthOf(yield* streamEvents(handshake.stream_id), 1)

          const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
          const [answer] = yield* awaitCount(auth.stream_id, 1)
          assert.strictEqual(answer!.type, "authenticate_key")
          assert.strictEqual(answer!["user_key"], userKeys.publicKey)
          assert.strictEqual(answer!["recipient"], userKeys.publicKey)
          assert.lengthOf(answer!["challenge"] as string, 32)
          const status = answer!["status"] as { status: string; session_token: string; granted_permissions: unknown }
          assert.strictEqual(status.status, "approved")
          assert.lengthOf(status.session_token.split("."), 3)
          assert.deepStrictEqual(status.granted_permissions, [])
          // exactly one event
          yield* Effect.sleep("300 millis")
          assert.lengthOf(yield* streamEvents(auth.stream_id), 1)
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("a declined challenge gives authenticate_key with status declined", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
        const { keys: userKeys } = yield* startUser(relay.url, Auth.declineAll())
        yield* Effect.gen(function* () {
          const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey })
          const [answer] = yield* awaitCount(auth.stream_id, 1)
          assert.strictEqual(answer!.type, "authenticate_key")
          assert.deepStrictEqual(answer!["status"], { status: "declined", reason: Auth.DEFAULT_DECLINE_REASON })
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("no answer and no taker end with error timeout at their deadlines", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate, {
          handshake: "1500 millis",
          auth: "1500 millis"
        })
        const { keys: userKeys } = yield* startUser(relay.url, () => Effect.succeed(Auth.ignore))
        yield* Effect.gen(function* () {
          const handshake = yield* startedStream("/key-handshake", { no_request: true })
          const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
          for (const id of [handshake.stream_id, auth.stream_id]) {
            const events = yield* awaitCount(id, 1)
            assert.deepStrictEqual(
              events.map((e) => [e.index, e.type, e["reason"]]),
              [[0, "error", "timeout"]]
            )
          }
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("an approval with the right challenge but signed by another key is ignored: the stream times out", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemonKeys = yield* Keys.generate
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, daemonKeys, { auth: "2 seconds" })
        const userKeys = yield* Keys.generate
        const forger = yield* Keys.generate
        const pool = yield* Layer.build(RelayPool.layerNode({ relays: [relay.url] })).pipe(
          Effect.map((context) => Context.get(context, RelayPool.RelayPool))
        )
        yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
        // the forger learns the challenge (here: from the user's own inbox) and answers it with its own key
        const challenges = yield* pool.subscription([{ kinds: [Kinds.AuthChallenge], "#p": [userKeys.publicKey] }])
        // the 27000 is ephemeral: the relay must have our REQ before the daemon publishes it
        yield* challenges.eose.pipe(Effect.timeout("5 seconds"))
        const userInbox = yield* Nip44.makeKeyCache(userKeys.secretKey)
        const forgerOutbox = yield* Nip44.makeKeyCache(forger.secretKey)
        yield* Effect.gen(function* () {
          const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey })
          const request = yield* Stream.runHead(challenges.events).pipe(
            Effect.timeout("10 seconds"),
            Effect.flatMap(Effect.orDie)
          )
          const content = yield* Messages.decodeContent(
            Kinds.AuthChallenge,
            yield* userInbox.decrypt(request.pubkey, request.content)
          )
          const forged = yield* Messages.encodeContent(Messages.AuthResponseContent, {
            challenge: content.challenge,
            subkeyProof: Option.none(),
            status: { _tag: "Approved", grantedPermissions: [], sessionToken: "forged" }
          })
          const template = yield* Event.template({
            kind: Kinds.AuthResponse,
            content: yield* forgerOutbox.encrypt(daemonKeys.publicKey, forged),
            tags: [["p", daemonKeys.publicKey]]
          })
          const event = yield* Event.signWith(forger, template)
          assert.isTrue(RelayPool.isDelivered(yield* pool.publish(event)))
          const events = yield* awaitCount(auth.stream_id, 1)
          assert.deepStrictEqual(
            events.map((e) => [e.type, e["reason"]]),
            [["error", "timeout"]]
          )
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("a static token used by two users gives two events until it is closed", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
        const alice = yield* startUser(relay.url, Auth.approveAll)
        const bob = yield* startUser(relay.url, Auth.approveAll)
        yield* Effect.gen(function* () {
          const first = yield* startedStream("/key-handshake", { static_token: "table-14" })
          assert.match(first.url!, /&token=table-14$/)
          // a repeat POST while open returns the same URL and stream; another no_request is a conflict
          assert.deepStrictEqual(yield* startedStream("/key-handshake", { static_token: "table-14" }), first)
          const conflict = yield* post("/key-handshake", { static_token: "table-14", no_request: true })
          assert.strictEqual(conflict.status, 409)
          yield* alice.user.handshake(first.url!)
          yield* awaitCount(first.stream_id, 1)
          yield* bob.user.handshake(first.url!)
          const events = yield* awaitCount(first.stream_id, 2)
          assert.deepStrictEqual(
            events.map((e) => [e.index, e.type, e["main_key"]]),
            [
              [0, "key_handshake", alice.keys.publicKey],
              [1, "key_handshake", bob.keys.publicKey]
            ]
          )
          const closed = yield* sendJson(HttpClientRequest.del(`/key-handshake/${first.stream_id}`).pipe(authed))
          assert.deepStrictEqual(closed.json, { success: true, data: { stream_id: first.stream_id, closed: true } })
          const again = yield* sendJson(HttpClientRequest.del(`/key-handshake/${first.stream_id}`).pipe(authed))
          assert.strictEqual(again.status, 200)
          const after = yield* streamEvents(first.stream_id, 1)
          assert.deepStrictEqual(
            after.map((e) => [e.index, e.type, e["reason"]]),
            [[2, "error", "closed"]]
          )
          // closed: a later handshake with the token is not recorded, and a new POST opens a new stream
          yield* alice.user.handshake(first.url!)
          yield* Effect.sleep("300 millis")
          assert.lengthOf(yield* streamEvents(first.stream_id), 3)
          const reopened = yield* startedStream("/key-handshake", { static_token: "table-14" })
          assert.notStrictEqual(reopened.stream_id, first.stream_id)
          const unknown = yield* sendJson(HttpClientRequest.del("/key-handshake/nope").pipe(authed))
          assert.deepStrictEqual(unknown.json, { success: false, error: "No key-handshake stream 'nope'" })
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("a challenge published before a restart is not re-sent; the answer after it is still recorded", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const file = yield* databaseFile
        const daemonKeys = yield* Keys.generate
        const asked = yield* Ref.make(0)
        // the user takes 2 s to decide: the daemon restarts meanwhile
        const { keys: userKeys } = yield* startUser(relay.url, () =>
          Ref.update(asked, (n) => n + 1).pipe(Effect.zipRight(Effect.sleep("2 seconds")), Effect.as(Auth.approve()))
        )
        const firstRun = yield* Scope.make()
        const daemon = yield* startDaemon(relay.url, file, daemonKeys).pipe(Scope.extend(firstRun))
        const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] }).pipe(
          Effect.provide(daemon)
        )
        yield* Ref.get(asked).pipe(
          Effect.filterOrFail((n) => n === 1),
          Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
          Effect.orDie
        )
        yield* Effect.flatMap(Store.Store, (store) =>
          awaitRecordedSent(store, "authenticate_key", auth.stream_id)
        ).pipe(Effect.provide(daemon))
        yield* Scope.close(firstRun, Exit.void)
        const restarted = yield* startDaemon(relay.url, file, daemonKeys)
        const [answer] = yield* awaitCount(auth.stream_id, 1).pipe(Effect.provide(restarted))
        assert.strictEqual(answer!.type, "authenticate_key")
        assert.strictEqual(answer!["user_key"], userKeys.publicKey)
        assert.strictEqual((answer!["status"] as { status: string }).status, "approved")
        assert.strictEqual(yield* Ref.get(asked), 1)
      })
    )

    it.scoped("SSE delivers stored then live events, ends when the stream finishes, resumes after Last-Event-ID", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
        const { keys: userKeys, user } = yield* startUser(relay.url, Auth.approveAll)
        yield* Effect.gen(function* () {
          const handshake = yield* startedStream("/key-handshake", {})
          const sse = (headers: Record<string, string>) =>
            send(
              HttpClientRequest.get(`/events/${handshake.stream_id}`).pipe(
                HttpClientRequest.setHeaders({ accept: "text/event-stream", ...headers }),
                authed
              )
            )
          const live = yield* Effect.fork(sse({}))
          yield* Effect.sleep("300 millis")
          yield* user.handshake(handshake.url!)
          const body = yield* Fiber.join(live).pipe(Effect.timeout("10 seconds"))
          assert.strictEqual(body.status, 200)
          assert.strictEqual(body.headers["content-type"], "text/event-stream; charset=utf-8")
          assert.strictEqual(body.headers["cache-control"], "no-cache")
          const [stored] = yield* streamEvents(handshake.stream_id)
          assert.strictEqual(stored!["main_key"], userKeys.publicKey)
          const end = `event: end\ndata: ${JSON.stringify({ stream_id: handshake.stream_id })}\n\n`
          assert.strictEqual(body.text, `retry: 3000\n\nid: 0\ndata: ${JSON.stringify(stored)}\n\n${end}`)
          // reconnecting after the last event replays nothing, then `end`
          const resumed = yield* sse({ "last-event-id": "0" })
          assert.strictEqual(resumed.text, `retry: 3000\n\n${end}`)
          const bad = yield* sse({ "last-event-id": "x" })
          assert.strictEqual(bad.status, 400)
          const unknown = yield* send(
            HttpClientRequest.get("/events/nope").pipe(
              HttpClientRequest.setHeader("accept", "text/event-stream"),
              authed
            )
          )
          assert.strictEqual(unknown.status, 404)
          assert.deepStrictEqual(JSON.parse(unknown.text), { success: false, error: "Stream 'nope' not found" })
        }).pipe(Effect.provide(daemon))
      })
    )

    it.scoped("relays: status, persisted additions and removals, advertised in new handshake URLs", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const file = yield* databaseFile
        const daemonKeys = yield* Keys.generate
        const listRelays = Effect.map(sendJson(HttpClientRequest.get("/relays").pipe(authed)), (r) => {
          assert.strictEqual(r.status, 200, r.text)
          return (r.json as { data: { relays: ReadonlyArray<Record<string, unknown>> } }).data.relays
        })
        const firstRun = yield* Scope.make()
        const daemon = yield* startDaemon(relay.url, file, daemonKeys).pipe(Scope.extend(firstRun))
        yield* Effect.gen(function* () {
          const [configured] = yield* listRelays
          assert.deepInclude(configured, { url: relay.url, source: "config", status: "connected", last_error: null })
          assert.match(configured!["connected_since"] as string, /^[0-9]+$/)
          const added = yield* post("/relays", { relay: "WS://127.0.0.1:1/" })
          assert.deepStrictEqual(added.json, { success: true, data: { relay: "ws://127.0.0.1:1" } })
          const again = yield* post("/relays", { relay: "ws://127.0.0.1:1" })
          assert.strictEqual(again.status, 200)
          const relays = yield* listRelays
          assert.deepStrictEqual(
            relays.map((r) => [r["url"], r["source"]]),
            [
              [relay.url, "config"],
              ["ws://127.0.0.1:1", "api"]
            ]
          )
          const handshake = yield* startedStream("/key-handshake", {})
          assert.include(
            handshake.url!,
            `relays=${encodeURIComponent(relay.url)},${encodeURIComponent("ws://127.0.0.1:1")}&`
          )
          const removed = yield* sendJson(jsonRequest("DELETE", "/relays", { relay: relay.url }).pipe(authed))
          assert.strictEqual(removed.status, 200)
          const missing = yield* sendJson(jsonRequest("DELETE", "/relays", { relay: relay.url }).pipe(authed))
          assert.deepStrictEqual(missing.json, { success: false, error: `Relay ${relay.url} is not in the relay set` })
        }).pipe(Effect.provide(daemon))
        yield* Scope.close(firstRun, Exit.void)
        // a configured relay removed through the API stays removed after a restart; the added one stays
        const restarted = yield* Layer.build(
          serverLayer(
            {},
            {},
            {},
            Services.layer({ keys: daemonKeys, relays: [relay.url] }).pipe(
              Layer.provide(Store.layerSqlite({ filename: file, retention: false })),
              Layer.orDie
            )
          )
        )
        const after = yield* listRelays.pipe(Effect.provide(restarted))
        assert.deepStrictEqual(
          after.map((r) => [r["url"], r["source"]]),
          [["ws://127.0.0.1:1", "api"]]
        )
      })
    )

    it.scoped(
      "a re-delivered handshake is recorded once; the user's preferred relays join the pool as source user",
      () =>
        Effect.gen(function* () {
          const relay = yield* TestRelay.TestRelay
          const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
          const other = "ws://127.0.0.1:2"
          const keys = yield* Keys.generate
          const context = yield* Layer.build(
            User.layerLocal({
              secretKey: Redacted.make(Buffer.from(Redacted.value(keys.secretKey)).toString("hex")),
              relays: [relay.url, other]
            }).pipe(Layer.provide(RelayPool.layerNode({ relays: [relay.url], backoff: { initial: "40 millis" } })))
          )
          const user = Context.get(context, User.User)
          yield* Effect.gen(function* () {
            const handshake = yield* startedStream("/key-handshake", { static_token: "door" })
            const sent = yield* user.handshake(handshake.url!)
            yield* awaitCount(handshake.stream_id, 1)
            assert.isAbove(yield* relay.inject(sent.event), 0)
            yield* Effect.sleep("300 millis")
            const events = yield* streamEvents(handshake.stream_id)
            assert.deepStrictEqual(
              events.map((e) => e["preferred_relays"]),
              [[relay.url, other]]
            )
            const relays = yield* Effect.map(sendJson(HttpClientRequest.get("/relays").pipe(authed)), (r) =>
              (r.json as { data: { relays: ReadonlyArray<Record<string, unknown>> } }).data.relays.map((x) => [
                x["url"],
                x["source"]
              ])
            )
            assert.deepStrictEqual(relays, [
              [relay.url, "config"],
              [other, "user"]
            ])
            // user relays are not advertised in new URLs
            const next = yield* startedStream("/key-handshake", {})
            assert.notInclude(next.url!, encodeURIComponent(other))
          }).pipe(Effect.provide(daemon))
        })
    )

    it.scoped(
      "subkey mode: the URL carries the main key and &subkey=, the challenge its proof, the flow completes",
      () =>
        Effect.gen(function* () {
          const relay = yield* TestRelay.TestRelay
          const main = yield* Keys.generate
          const metadata = yield* Schema.decodeUnknown(Subkey.SubkeyMetadata)({
            name: "daemon-subkey",
            nonce: "22".repeat(32),
            valid_from: "0",
            expires_at: "18446744073709551615",
            permissions: ["auth"],
            version: 2
          })
          const sub = yield* Keys.fromBytes(yield* Subkey.deriveSubkeySecret(Redacted.value(main.secretKey), metadata))
          const daemon = yield* startDaemon(
            relay.url,
            yield* databaseFile,
            sub,
            {},
            { mainKey: main.publicKey, metadata }
          )
          const serviceKeys = yield* Ref.make<ReadonlyArray<string>>([])
          const { keys: userKeys, user } = yield* startUser(relay.url, (challenge) =>
            Ref.update(serviceKeys, (all) => [...all, challenge.serviceKey]).pipe(Effect.as(Auth.approve()))
          )
          yield* Effect.gen(function* () {
            const handshake = yield* startedStream("/key-handshake", {})
            assert.isTrue(handshake.url!.startsWith(`portal://${Keys.npub(main.publicKey)}?`), handshake.url)
            assert.include(handshake.url!, `&subkey=${Keys.npub(sub.publicKey)}`)
            yield* user.handshake(handshake.url!)
            const [event] = yield* awaitCount(handshake.stream_id, 1)
            assert.strictEqual(event!["main_key"], userKeys.publicKey)
            const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey })
            const [answer] = yield* awaitCount(auth.stream_id, 1)
            assert.strictEqual((answer!["status"] as { status: string }).status, "approved")
            // the user verified the proof and attributed the challenge to the daemon's main key
            assert.deepStrictEqual(yield* Ref.get(serviceKeys), [main.publicKey])
          }).pipe(Effect.provide(daemon))
        })
    )

    it.scoped("an unknown stream is 404", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
        const r = yield* sendJson(HttpClientRequest.get("/events/nope").pipe(authed)).pipe(Effect.provide(daemon))
        assert.strictEqual(r.status, 404)
        assert.deepStrictEqual(r.json, { success: false, error: "Stream 'nope' not found" })
      })
    )

    it.scoped("after a restart on the same file, open handshakes continue and expired challenges end with error", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const file = yield* databaseFile
        const daemonKeys = yield* Keys.generate
        const { keys: userKeys, user } = yield* startUser(relay.url, () => Effect.succeed(Auth.ignore))

        const firstRun = yield* Scope.make()
        const daemon = yield* startDaemon(relay.url, file, daemonKeys, { auth: "1 second" }).pipe(
          Scope.extend(firstRun)
        )
        const { handshake, staticHandshake, auth } = yield* Effect.gen(function* () {
          const handshake = yield* startedStream("/key-handshake", {})
          const staticHandshake = yield* startedStream("/key-handshake", { static_token: "counter-1" })
          const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
          return { handshake, staticHandshake, auth }
        }).pipe(Effect.provide(daemon))
        yield* Scope.close(firstRun, Exit.void)
        yield* Effect.sleep("1200 millis") // the challenge's deadline passes while the daemon is down

        const restarted = yield* startDaemon(relay.url, file, daemonKeys, { auth: "1 second" })
        yield* Effect.gen(function* () {
          const [timeout] = yield* awaitCount(auth.stream_id, 1)
          assert.deepStrictEqual([timeout!.type, timeout!["reason"]], ["error", "timeout"])
          yield* user.handshake(handshake.url!)
          const [oneShot] = yield* awaitCount(handshake.stream_id, 1)
          assert.strictEqual(oneShot!["main_key"], userKeys.publicKey)
          yield* user.handshake(staticHandshake.url!)
          const [reusable] = yield* awaitCount(staticHandshake.stream_id, 1)
          assert.strictEqual(reusable!["main_key"], userKeys.publicKey)
          // the static token is still the open one: a repeat POST returns the same stream
          assert.deepStrictEqual(yield* startedStream("/key-handshake", { static_token: "counter-1" }), staticHandshake)
        }).pipe(Effect.provide(restarted))
      })
    )
  })
})

describe("profiles", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("GET /profile/{main_key} reads the newest kind 0 from the relays; an unverified nip05 is null", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon(relay.url, yield* databaseFile, yield* Keys.generate)
        const userKeys = yield* Keys.generate
        const pool = yield* Layer.build(RelayPool.layerNode({ relays: [relay.url] })).pipe(
          Effect.map((context) => Context.get(context, RelayPool.RelayPool))
        )
        yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
        const publish = (created_at: number, content: Record<string, string>) =>
          Effect.flatMap(
            Event.signWith(userKeys, { kind: 0, content: JSON.stringify(content), tags: [], created_at }),
            (event) => pool.publish(event)
          )
        yield* publish(1_700_000_000, { name: "old" })
        // nip05 names another key on domain.example, so it does not verify and comes back null
        yield* publish(1_700_000_100, { name: "alice", display_name: "Alice", nip05: nip05User.identifier })
        yield* Effect.gen(function* () {
          const r = yield* sendJson(HttpClientRequest.get(`/profile/${Keys.npub(userKeys.publicKey)}`).pipe(authed))
          assert.strictEqual(r.status, 200, r.text)
          assert.deepStrictEqual(r.json, {
            success: true,
            data: { profile: { name: "alice", display_name: "Alice", picture: null, nip05: null } }
          })
          const nobody = yield* sendJson(
            HttpClientRequest.get(`/profile/${(yield* Keys.generate).publicKey}`).pipe(authed)
          )
          assert.deepStrictEqual(nobody.json, { success: true, data: { profile: null } })
        }).pipe(Effect.provide(daemon))
      })
    )
  })
})
