/**
 * `POST /key-handshake` under concurrency on a real SQLite file: each new stream and its operation are stored in one
 * group-committed transaction, so every 201 survives a restart with its handshake resumable; a static token is still
 * one stream however many ask for it at once.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { authed, jsonRequest, layer as serverLayer, nip05Host, sendJson } from "./HttpServerTest.js"

const CONCURRENT = 40

/** The daemon's HTTP application over the SQLite file, with no relays. */
const startDaemon = (file: string, keys: Keys.KeyPair) =>
  Layer.build(
    serverLayer(
      {},
      {},
      {},
      Services.layer({ keys, relays: [], httpClient: nip05Host }).pipe(
        Layer.provideMerge(Store.layerSqlite({ filename: file, retention: false })),
        Layer.orDie
      )
    )
  )

const post = (body: unknown) => sendJson(jsonRequest("POST", "/key-handshake", body).pipe(authed))

const events = (streamId: string) =>
  Effect.map(sendJson(HttpClientRequest.get(`/events/${streamId}`).pipe(authed)), (r) => {
    assert.strictEqual(r.status, 200, r.text)
    return (r.json as { data: { events: ReadonlyArray<{ type: string; reason?: string }> } }).data.events
  })

describe("POST /key-handshake under concurrency", () => {
  it.scoped(
    "every 201 of concurrent requests is a distinct stream that a restart keeps open and resumable",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(NodePath.join(tmpdir(), "portal-handshakes-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const file = NodePath.join(dir, "portal-rest.db")
        const keys = yield* Keys.generate

        const firstRun = yield* Scope.make()
        const daemon = yield* startDaemon(file, keys).pipe(Scope.extend(firstRun))
        const { fresh, statics } = yield* Effect.gen(function* () {
          const requests = Array.from({ length: CONCURRENT }, (_, i) =>
            i % 4 === 0 ? post({ static_token: "shared-token" }) : post({})
          )
          const answers = yield* Effect.all(requests, { concurrency: "unbounded" })
          for (const answer of answers) assert.strictEqual(answer.status, 201, answer.text)
          const data = answers.map((answer) => (answer.json as { data: { stream_id: string; url: string } }).data)
          return {
            fresh: data.filter((_, i) => i % 4 !== 0),
            statics: data.filter((_, i) => i % 4 === 0)
          }
        }).pipe(Effect.provide(daemon))
        yield* Scope.close(firstRun, Exit.void)

        // one static stream, however many asked for it at once; every fresh one its own stream and token
        assert.strictEqual(new Set(statics.map((d) => d.stream_id)).size, 1)
        assert.strictEqual(new Set(statics.map((d) => d.url)).size, 1)
        assert.strictEqual(new Set(fresh.map((d) => d.stream_id)).size, fresh.length)
        assert.strictEqual(new Set(fresh.map((d) => new URL(d.url).searchParams.get("token"))).size, fresh.length)

        const restarted = yield* startDaemon(file, keys)
        yield* Effect.gen(function* () {
          // nothing was lost or found without its operation (that would end the stream at startup)
          for (const { stream_id } of [...fresh, statics[0]!]) {
            assert.deepStrictEqual(yield* events(stream_id), [], stream_id)
          }
          // the handshakes were resumed: closing one ends its stream
          const [first] = fresh
          const closed = yield* sendJson(HttpClientRequest.del(`/key-handshake/${first!.stream_id}`).pipe(authed))
          assert.strictEqual(closed.status, 200, closed.text)
          assert.deepStrictEqual(
            (yield* events(first!.stream_id)).map((e) => [e.type, e.reason]),
            [["error", "closed"]]
          )
          // the static token is still the open one
          const again = yield* post({ static_token: "shared-token" })
          assert.strictEqual(again.status, 201, again.text)
          assert.strictEqual((again.json as { data: { stream_id: string } }).data.stream_id, statics[0]!.stream_id)
        }).pipe(Effect.provide(restarted))
      }),
    30_000
  )
})
