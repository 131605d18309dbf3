import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Store from "@portal/store/Store"
import * as Webhooks from "@portal/server/Webhooks"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHmac } from "node:crypto"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

const SECRET = "whsec_test"

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly status: number
}

/** A real loopback receiver that answers 500 to its first `failFirst` requests (or to all while `down`). */
const receiver = (options: { failFirst: number; delayMs?: number; failWhen?: (body: string) => boolean }) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly url: string
      readonly received: Array<Received>
      readonly state: { down: boolean; arrived: number }
      readonly close: () => void
    }>((resume) => {
      const received: Array<Received> = []
      const state = { down: false, arrived: 0 }
      const server = createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const failing = options.failWhen?.(Buffer.concat(chunks).toString("utf8")) ?? false
          const status = state.down || failing || received.length < options.failFirst ? 500 : 200
          const respond = () => {
            received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status })
            res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "nope")
          }
          state.arrived++
          setTimeout(respond, options.delayMs ?? 0)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}/hook`,
            received,
            state,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      })
    }),
    (r) => Effect.sync(r.close)
  )

const hmac = (message: string) => createHmac("sha256", SECRET).update(message).digest("hex")

const worker = (url: string, maxAgeHours = 72) =>
  Webhooks.layer({
    url,
    secret: Option.some(Redacted.make(SECRET)),
    timeoutMs: 2000,
    maxAgeHours,
    concurrency: 4,
    pollInterval: "50 millis"
  }).pipe(Layer.provide(FetchHttpClient.layer))

const seed = Effect.gen(function* () {
  const store = yield* Store.Store
  for (const [id, count] of [
    ["stream-a", 3],
    ["stream-b", 2]
  ] as const) {
    yield* store.createStream(id, "single_payment")
    for (let i = 0; i < count; i++) {
      yield* store.append(
        id,
        { type: "payment_status_update", data: { status: { status: "paid", n: i } } },
        {
          webhook: true
        }
      )
    }
  }
})

const delivered = (received: ReadonlyArray<Received>) => received.filter((r) => r.status === 200)

/** Polls `condition` every 50 ms for up to `seconds`. */
const eventually = (condition: () => boolean, seconds: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + seconds * 1000
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`condition not met within ${seconds} s`))
      yield* Effect.sleep("50 millis")
    }
  })

/** Per stream, the indexes of the requests in arrival order. */
const byStream = (received: ReadonlyArray<Received>) => {
  const out = new Map<string, Array<{ index: number; status: number }>>()
  for (const r of received) {
    const body = JSON.parse(r.body) as { stream_id: string; index: number }
    const list = out.get(body.stream_id) ?? []
    list.push({ index: body.index, status: r.status })
    out.set(body.stream_id, list)
  }
  return out
}

/** Each stream's requests: indexes never go back, and index N+1 only after N got its 2xx. */
const assertOrdered = (received: ReadonlyArray<Received>, expected: Record<string, number>) => {
  const streams = byStream(received)
  for (const [id, count] of Object.entries(expected)) {
    const attempts = streams.get(id) ?? []
    let next = 0
    for (const attempt of attempts) {
      assert.isTrue(attempt.index === next || attempt.index === next - 1, `${id}: ${JSON.stringify(attempts)}`)
      if (attempt.index === next && attempt.status === 200) next++
    }
    assert.strictEqual(next, count, `${id}: every event delivered`)
  }
}

// Every test has its own receiver, memory store and worker, so they run concurrently (their time is the retry
// backoff of 1 s, 2 s…, which has no option).
describe.concurrent("webhook delivery (differences.md §h)", () => {
  it.scopedLive("a receiver failing its first attempts still gets every event, signed, in order per stream", () =>
    Effect.gen(function* () {
      const hook = yield* receiver({ failFirst: 3 })
      yield* seed
      yield* Layer.build(worker(hook.url))
      yield* eventually(() => delivered(hook.received).length >= 5, 20)

      assertOrdered(hook.received, { "stream-a": 3, "stream-b": 2 })
      assert.strictEqual(hook.received.filter((r) => r.status === 500).length, 3)
      const bodies = new Map<string, string>()
      for (const r of hook.received) {
        assert.strictEqual(r.headers["content-type"], "application/json")
        assert.strictEqual(r.headers["x-portal-signature"], hmac(r.body))
        const timestamp = r.headers["x-portal-timestamp"] as string
        assert.match(timestamp, /^[0-9]+$/)
        assert.isTrue(Math.abs(Number(timestamp) - Date.now() / 1000) < 60)
        assert.strictEqual(r.headers["x-portal-signature-v2"], hmac(`${timestamp}.${r.body}`))
        const body = JSON.parse(r.body) as Record<string, unknown>
        assert.deepStrictEqual(Object.keys(body), ["stream_id", "index", "timestamp", "type", "status"])
        assert.match(body["timestamp"] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/)
        assert.deepStrictEqual(body["status"], { status: "paid", n: body["index"] })
        // a retry sends the same bytes
        const key = `${body["stream_id"]}#${body["index"]}`
        assert.strictEqual(bodies.get(key) ?? r.body, r.body)
        bodies.set(key, r.body)
      }
      // the retried events carry increasing attempt numbers
      const firstA = hook.received.filter((r) => r.body === bodies.get("stream-a#0"))
      assert.deepStrictEqual(
        firstA.map((r) => r.headers["x-portal-delivery-attempt"]),
        firstA.map((_, i) => String(i + 1))
      )
      // nothing is sent twice once delivered
      yield* Effect.sleep("300 millis")
      assert.strictEqual(delivered(hook.received).length, 5)
    }).pipe(Effect.provide(Store.layerMemory))
  )

  it.scopedLive("a stopped worker leaves the outbox queued; the next one resumes in order", () =>
    Effect.gen(function* () {
      const hook = yield* receiver({ failFirst: 0 })
      hook.state.down = true
      yield* seed
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(worker(hook.url))
          yield* eventually(() => hook.received.length >= 2, 10)
        })
      )
      const seenWhileDown = hook.received.length
      assert.strictEqual(delivered(hook.received).length, 0)
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(hook.received.length, seenWhileDown, "a stopped worker sends nothing")

      hook.state.down = false
      yield* Layer.build(worker(hook.url))
      yield* eventually(() => delivered(hook.received).length >= 5, 20)
      assertOrdered(hook.received, { "stream-a": 3, "stream-b": 2 })
      // the first event of each stream was already tried by the first worker: its attempt count carried over
      const resumed = hook.received.find(
        (r) => r.status === 200 && r.body.includes('"stream_id":"stream-a","index":0,')
      )
      assert.isTrue(Number(resumed?.headers["x-portal-delivery-attempt"]) > 1)
    }).pipe(Effect.provide(Store.layerMemory))
  )

  it.scopedLive("shutdown lets the in-flight attempt finish and records it: the next worker does not resend it", () =>
    Effect.gen(function* () {
      const hook = yield* receiver({ failFirst: 0, delayMs: 600 })
      const store = yield* Store.Store
      yield* store.createStream("slow", "single_payment")
      yield* store.append(
        "slow",
        { type: "payment_status_update", data: { status: { status: "paid" } } },
        {
          webhook: true
        }
      )
      const started = Date.now()
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(worker(hook.url))
          yield* eventually(() => hook.state.arrived === 1, 10)
        })
      )
      assert.isAtLeast(Date.now() - started, 550, "closing waited for the response")
      assert.strictEqual(delivered(hook.received).length, 1)
      yield* Layer.build(worker(hook.url))
      yield* Effect.sleep("500 millis")
      assert.strictEqual(hook.state.arrived, 1, "delivered once")
    }).pipe(Effect.provide(Store.layerMemory))
  )

  it.scopedLive("an event still failing past webhook.max_age_hours is given up; the stream's next event proceeds", () =>
    Effect.gen(function* () {
      const hook = yield* receiver({ failFirst: 0, failWhen: (body) => body.includes('"index":0,') })
      const store = yield* Store.Store
      yield* store.createStream("s", "single_payment")
      for (const n of [0, 1]) {
        yield* store.append(
          "s",
          { type: "payment_status_update", data: { status: { status: "paid", n } } },
          {
            webhook: true
          }
        )
      }
      // 1.5 s max age: attempts at ~0 s and ~1 s fail young, the one at ~3 s fails old and is the last
      yield* Layer.build(worker(hook.url, 1.5 / 3600))
      yield* eventually(() => delivered(hook.received).length === 1, 15)
      const attempts = byStream(hook.received).get("s") ?? []
      assert.deepStrictEqual(
        attempts.map((a) => [a.index, a.status]),
        [...attempts.slice(0, -1).map(() => [0, 500]), [1, 200]]
      )
      assert.isAtLeast(attempts.length, 3)
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(hook.received.length, attempts.length, "the dead event is not tried again")
    }).pipe(Effect.provide(Store.layerMemory))
  )

  it("signs as the reference (body only) and with the timestamp (V2); no signature without a secret", () => {
    const body = '{"stream_id":"s","index":0}'
    const signed = Webhooks.headers({
      body,
      secret: Option.some(Redacted.make(SECRET)),
      timestamp: 1700000000,
      attempt: 2
    })
    assert.deepStrictEqual(signed, {
      "x-portal-timestamp": "1700000000",
      "x-portal-delivery-attempt": "2",
      "x-portal-signature": hmac(body),
      "x-portal-signature-v2": hmac(`1700000000.${body}`)
    })
    for (const secret of [Option.none(), Option.some(Redacted.make(""))]) {
      assert.deepStrictEqual(Object.keys(Webhooks.headers({ body, secret, timestamp: 1, attempt: 1 })), [
        "x-portal-timestamp",
        "x-portal-delivery-attempt"
      ])
    }
  })

  it("backs off 1 s, 2 s, 4 s … capped at 15 min", () => {
    assert.deepStrictEqual(
      [1, 2, 3, 10, 11, 30].map((n) => Duration.toSeconds(Webhooks.backoff(n))),
      [1, 2, 4, 512, 900, 900]
    )
  })
})
