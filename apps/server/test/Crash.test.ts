/**
 * The real daemon process (tsup bundle, `DaemonProcess.ts`) killed with SIGKILL mid-flow and restarted on the same
 * data directory: the handshake done, a challenge published and pending. After the restart every stream still
 * answers, and the pending challenge is answered (the daemon listens again without re-sending it). Real loopback
 * relay (`TestRelay`), the user side from `@portal/user` in the test process.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Auth from "@portal/user/Auth"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as DaemonProcess from "./DaemonProcess.js"
import { awaitCount, streamEvents, startedStream, startUser } from "./PaymentsHarness.js"

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
          const { keys: userKeys, user } = yield* startUser(relay.url, undefined, {
            auth: () =>
              Deferred.succeed(asked, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.as(Auth.approve())
              )
          })

          const first = yield* DaemonProcess.start({ main, dataDir, port, env })
          const { auth, handshake } = yield* Effect.gen(function* () {
            yield* DaemonProcess.relaysConnected
            const handshake = yield* startedStream("/key-handshake", {})
            yield* user.handshake(handshake.url!)
            const [shake] = yield* awaitCount(handshake.stream_id, 1)
            assert.strictEqual(shake!.type, "key_handshake")
            assert.strictEqual(shake!["main_key"], userKeys.publicKey)
            const auth = yield* startedStream("/authenticate-key", { main_key: userKeys.publicKey, subkeys: [] })
            return { auth, handshake }
          }).pipe(Effect.provide(first.client))
          // the challenge reached the user: the daemon stored it as published before sending
          yield* Deferred.await(asked).pipe(Effect.timeout("20 seconds"))

          const killed = yield* first.kill("SIGKILL")
          assert.strictEqual(killed.signal, "SIGKILL")

          const second = yield* DaemonProcess.start({ main, dataDir, port, env })
          yield* Effect.gen(function* () {
            // the finished handshake stream still answers with its event
            const events = yield* streamEvents(handshake.stream_id)
            assert.deepStrictEqual(
              events.map((e) => [e.index, e.type, e["main_key"]]),
              [[0, "key_handshake", userKeys.publicKey]]
            )
            // the pending challenge: nothing was lost or invented by the crash
            assert.deepStrictEqual(yield* streamEvents(auth.stream_id), [])
            yield* DaemonProcess.relaysConnected
            yield* Deferred.succeed(release, undefined)
            const [answer] = yield* awaitCount(auth.stream_id, 1)
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
