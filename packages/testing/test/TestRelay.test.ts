import { assert, describe, it } from "@effect/vitest"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Queue from "effect/Queue"
import { finalizeEvent, generateSecretKey } from "nostr-tools/pure"
import { WebSocket } from "ws"

/** A bare WebSocket client that queues every parsed frame. */
const connect = (url: string) =>
  Effect.gen(function* () {
    const frames = yield* Queue.unbounded<ReadonlyArray<unknown>>()
    const closed = yield* Queue.unbounded<number>()
    const ws = yield* Effect.acquireRelease(
      Effect.async<WebSocket, Error>((resume) => {
        const socket = new WebSocket(url)
        socket.on("message", (data) => {
          const parsed: unknown = JSON.parse(data.toString())
          if (Array.isArray(parsed)) Queue.unsafeOffer(frames, parsed)
        })
        socket.on("close", (code) => Queue.unsafeOffer(closed, code))
        socket.once("open", () => resume(Effect.succeed(socket)))
        socket.once("error", (error) => resume(Effect.fail(error)))
      }),
      (socket) => Effect.sync(() => socket.terminate())
    )
    const send = (frame: ReadonlyArray<unknown>) => Effect.sync(() => ws.send(JSON.stringify(frame)))
    const next = (type: string) =>
      Queue.take(frames).pipe(Effect.repeat({ until: (frame) => frame[0] === type }), Effect.timeout("3 seconds"))
    return { send, next, closed }
  })

const sign = (kind: number, content: string, tags: Array<Array<string>> = [], secret = generateSecretKey()) =>
  finalizeEvent({ kind, content, tags, created_at: Math.floor(Date.now() / 1000) }, secret)

describe("TestRelay", () => {
  it.scopedLive("serves NIP-01: OK, live EVENT, stored REQ, EOSE", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
      const a = yield* connect(relay.url)
      const b = yield* connect(relay.url)
      yield* b.send(["REQ", "sub1", { kinds: [1] }])
      assert.deepStrictEqual(yield* b.next("EOSE"), ["EOSE", "sub1"])
      const event = sign(1, "hello")
      yield* a.send(["EVENT", event])
      const ok = yield* a.next("OK")
      assert.deepStrictEqual(ok.slice(0, 3), ["OK", event.id, true])
      const live = yield* b.next("EVENT")
      assert.strictEqual((live[2] as { id: string }).id, event.id)
      // a later REQ gets it from the store
      yield* a.send(["REQ", "sub2", { ids: [event.id] }])
      const stored = yield* a.next("EVENT")
      assert.strictEqual((stored[2] as { id: string }).id, event.id)
      assert.strictEqual(yield* relay.connections, 2)
    })
  )

  it.scopedLive("rejects a forged signature with OK false", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const a = yield* connect(relay.url)
      const event = sign(1, "x")
      const forged = { ...event, sig: sign(1, "x").sig }
      yield* a.send(["EVENT", forged])
      const ok = yield* a.next("OK")
      assert.strictEqual(ok[2], false)
      assert.lengthOf(yield* relay.storedEvents, 0)
    })
  )

  it.scopedLive("keeps only the newest replaceable event per author", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const a = yield* connect(relay.url)
      const secret = generateSecretKey()
      const older = finalizeEvent({ kind: 0, content: "{}", tags: [], created_at: 1000 }, secret)
      const newer = finalizeEvent({ kind: 0, content: '{"name":"b"}', tags: [], created_at: 2000 }, secret)
      yield* a.send(["EVENT", newer])
      yield* a.next("OK")
      yield* a.send(["EVENT", older])
      yield* a.next("OK")
      const stored = yield* relay.storedEvents
      assert.deepStrictEqual(
        stored.map((e) => e.id),
        [newer.id]
      )
    })
  )

  it.scopedLive("stops, drops clients, and restarts on the same port with its store", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const a = yield* connect(relay.url)
      const event = sign(1, "survives")
      yield* a.send(["EVENT", event])
      yield* a.next("OK")
      yield* relay.stop
      yield* Queue.take(a.closed)
      const refused = yield* Effect.either(connect(relay.url).pipe(Effect.scoped))
      assert.isTrue(Either.isLeft(refused))
      yield* relay.start
      const b = yield* connect(relay.url)
      yield* b.send(["REQ", "s", { kinds: [1] }])
      const stored = yield* b.next("EVENT")
      assert.strictEqual((stored[2] as { id: string }).id, event.id)
      yield* relay.dropConnections
      yield* Queue.take(b.closed)
      const c = yield* connect(relay.url)
      yield* c.send(["REQ", "s", { kinds: [1] }])
      yield* c.next("EOSE")
    })
  )

  it.scopedLive("injects unvalidated frames into every subscription; stores without broadcasting", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const a = yield* connect(relay.url)
      yield* a.send(["REQ", "only-kind-7", { kinds: [7] }])
      yield* a.next("EOSE")
      const forged = { ...sign(1, "forged"), sig: "00".repeat(64) }
      assert.strictEqual(yield* relay.inject(forged), 1)
      const frame = yield* a.next("EVENT")
      assert.deepStrictEqual(frame, ["EVENT", "only-kind-7", JSON.parse(JSON.stringify(forged))])
      const quiet = sign(7, "quiet")
      yield* relay.store(quiet)
      yield* a.send(["REQ", "later", { kinds: [7] }])
      const stored = yield* a.next("EVENT")
      assert.deepStrictEqual(stored, ["EVENT", "later", JSON.parse(JSON.stringify(quiet))])
    })
  )

  it.scopedLive("honours tag filters for stored events", () =>
    Effect.gen(function* () {
      const relay = yield* TestRelay.make
      const a = yield* connect(relay.url)
      const p1 = "11".repeat(32)
      const forP1 = sign(1, "p1", [["p", p1]])
      const forP2 = sign(1, "p2", [["p", "22".repeat(32)]])
      yield* relay.store(forP1)
      yield* relay.store(forP2)
      yield* a.send(["REQ", "s", { kinds: [1], "#p": [p1] }])
      const first = yield* a.next("EVENT")
      assert.strictEqual((first[2] as { id: string }).id, forP1.id)
      yield* a.next("EOSE")
    })
  )
})
