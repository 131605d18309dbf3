/**
 * The real daemon process (tsup bundle, `DaemonProcess.ts`) killed with SIGKILL mid-flow and restarted on the same
 * data directory: the handshake done, a challenge published and pending. After the restart every stream still
 * answers, and the pending challenge is answered (the daemon listens again without re-sending it). Real loopback
 * relay (`TestRelay`), the user side from `@portal/user` in the test process.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as DaemonProcess from "./DaemonProcess.js"
import { authed, jsonRequest, sendJson } from "./HttpServerTest.js"

interface WireEvent {
  readonly index: number
  readonly type: string
  readonly [field: string]: unknown
}

const started = (path: string, body: unknown) =>
  Effect.map(sendJson(jsonRequest("POST", path, body).pipe(authed)), (r) => {
    assert.strictEqual(r.status, 201, r.text)
    return (r.json as { data: { stream_id: string; url?: string } }).data
  })

const poll = (streamId: string) =>
  Effect.map(sendJson(HttpClientRequest.get(`/events/${streamId}`).pipe(authed)), (r) => {
    assert.strictEqual(r.status, 200, r.text)
    return (r.json as { data: { events: ReadonlyArray<WireEvent> } }).data.events
  })

/** Polls until the stream has `count` events (20 s at most). */
const awaitEvents = (streamId: string, count: number) =>
  poll(streamId).pipe(
    Effect.filterOrFail(
      (events) => events.length >= count,
      () => new Error(`${streamId}: fewer than ${count} events`)
    ),
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 200 }),
    Effect.orDie
  )

/** Until `GET /relays` reports every relay connected (the daemon's subscriptions go out on connect). */
const awaitRelaysConnected = sendJson(HttpClientRequest.get("/relays").pipe(authed)).pipe(
  Effect.filterOrFail(
    (r) =>
      r.status === 200 &&
      (r.json as { data: { relays: ReadonlyArray<{ status: string }> } }).data.relays.every(
        (relay) => relay.status === "connected"
      ),
    () => new Error("relays not connected")
  ),
  Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 }),
  Effect.orDie
)

describe("the daemon process killed with SIGKILL", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped(
      "mid-flow and restarted on the same data dir: the streams answer and the pending challenge completes",
      () =>
        Effect.gen(function* () {
          const relay = yield* TestRelay.TestRelay
          const main = yield* DaemonProcess.entry
          const dataDir = yield* DaemonProcess.dataDir("portal-crash-")
          const port = yield* DaemonProcess.freePort
          const env = { PORTAL__NOSTR__RELAYS: relay.url }

          // the user: asked once, answers only when the test lets it (after the crash and restart)
          const asked = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const userKeys = yield* Keys.generate
          const userContext = yield* Layer.build(
            User.layerLocal({
              secretKey: Redacted.make(Buffer.from(Redacted.value(userKeys.secretKey)).toString("hex")),
              subscribeWait: "1 second"
            }).pipe(Layer.provide(RelayPool.layerNode({ relays: [relay.url], backoff: { initial: "40 millis" } })))
          )
          const user = Context.get(userContext, User.User)
          yield* user.listen({
            auth: () =>
              Deferred.succeed(asked, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.as(Auth.approve())
              )
          })

          const first = yield* DaemonProcess.start({ main, dataDir, port, env })
          const { auth, handshake } = yield* Effect.gen(function* () {
            yield* awaitRelaysConnected
            const handshake = yield* started("/key-handshake", {})
            yield* user.handshake(handshake.url!)
            const [shake] = yield* awaitEvents(handshake.stream_id, 1)
            assert.strictEqual(shake!.type, "key_handshake")
            assert.strictEqual(shake!["main_key"], userKeys.publicKey)
            const auth = yield* started("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
            return { auth, handshake }
          }).pipe(Effect.provide(first.client))
          // the challenge reached the user: the daemon stored it as published before sending
          yield* Deferred.await(asked).pipe(Effect.timeout("20 seconds"))

          const killed = yield* first.kill("SIGKILL")
          assert.strictEqual(killed.signal, "SIGKILL")

          const second = yield* DaemonProcess.start({ main, dataDir, port, env })
          yield* Effect.gen(function* () {
            // the finished handshake stream still answers with its event
            const events = yield* poll(handshake.stream_id)
            assert.deepStrictEqual(
              events.map((e) => [e.index, e.type, e["main_key"]]),
              [[0, "key_handshake", userKeys.publicKey]]
            )
            // the pending challenge: nothing was lost or invented by the crash
            assert.deepStrictEqual(yield* poll(auth.stream_id), [])
            yield* awaitRelaysConnected
            yield* Deferred.succeed(release, undefined)
            const [answer] = yield* awaitEvents(auth.stream_id, 1)
            assert.strictEqual(answer!.type, "authenticate_key", JSON.stringify(answer))
            assert.strictEqual(answer!["user_key"], userKeys.publicKey)
            assert.strictEqual((answer!["status"] as { status: string }).status, "approved")
          }).pipe(Effect.provide(second.client))
          yield* second.kill("SIGTERM")
        }),
      60_000
    )
  })
})
