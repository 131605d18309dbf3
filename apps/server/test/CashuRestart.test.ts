/**
 * Cashu across time and restarts: a request nobody answers ends with `error` `timeout` at its `expires_at`; a request
 * pending when the daemon stops is resumed by the next daemon on the same SQLite file (listened for, not re-sent)
 * and ends there; burned ecash stays in the daemon's balance across the restart.
 */
import * as CashuService from "@portal/cashu/Cashu"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as CashuMint from "@portal/testing/CashuMint"
import * as TestRelay from "@portal/testing/TestRelay"
import { assert, describe, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { layer as serverLayer, nip05Host } from "./HttpServerTest.js"
import { awaitEvents, awaitRecordedSent, databaseFile, post, started } from "./PaymentsHarness.js"

const staticAuth = "box-office-secret"

/** A daemon (no Lightning wallet) on `file` whose Cashu requests live `requestTimeout`; `stop` closes it. */
const startDaemon = (options: {
  readonly relay: string
  readonly file: string
  readonly keys: Keys.KeyPair
  readonly requestTimeout: Duration.DurationInput
}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    const services = Services.layer({
      keys: options.keys,
      relays: [options.relay],
      pool: { backoff: { initial: "40 millis" } },
      subscribeWait: "1 second",
      httpClient: nip05Host,
      cashu: { requestTimeout: options.requestTimeout }
    }).pipe(Layer.provideMerge(Store.layerSqlite({ filename: options.file, retention: false })), Layer.orDie)
    const servicesContext = yield* Layer.buildWithScope(services, scope)
    const context = yield* Layer.buildWithScope(serverLayer({}, {}, {}, Layer.succeedContext(servicesContext)), scope)
    yield* Context.get(servicesContext, RelayPool.RelayPool).awaitOpen().pipe(Effect.timeout("5 seconds"), Effect.orDie)
    return {
      http: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, context),
      cashu: Context.get(servicesContext, CashuService.Cashu),
      store: Context.get(servicesContext, Store.Store),
      stop: Scope.close(scope, Exit.void)
    }
  })

/** How many 29500 events to `recipient` the relay received. */
const requestsSent = (relay: TestRelay.Service, recipient: string) =>
  Effect.map(
    relay.received,
    (frames) =>
      frames.filter((frame) => {
        const text = JSON.stringify(frame)
        return text.includes('"kind":29500') && text.includes(recipient)
      }).length
  )

describe("cashu across restarts", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("a request nobody answers ends with error timeout at expires_at", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const daemon = yield* startDaemon({
          relay: relay.url,
          file: yield* databaseFile,
          keys: yield* Keys.generate,
          requestTimeout: "2 seconds"
        })
        const silent = (yield* Keys.generate).publicKey
        const events = yield* daemon.http(
          Effect.gen(function* () {
            const streamId = yield* started("/cashu/request", {
              recipient_key: silent,
              subkeys: [],
              mint_url: "http://127.0.0.1:1",
              unit: "ticket",
              amount: 1
            })
            return yield* awaitEvents(streamId, (events) => events.length > 0, "10 seconds")
          })
        )
        assert.deepStrictEqual(
          events.map((e) => [e.type, e["reason"]]),
          [["error", "timeout"]]
        )
        assert.strictEqual(yield* requestsSent(relay, silent), 1)
      })
    )

    it.scoped("a pending request is resumed by the next daemon; burned ecash survives the restart", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const mint = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make(staticAuth) })
        const file = yield* databaseFile
        const keys = yield* Keys.generate
        const silent = (yield* Keys.generate).publicKey
        const first = yield* startDaemon({ relay: relay.url, file, keys, requestTimeout: "3 seconds" })
        const streamId = yield* first.http(
          Effect.gen(function* () {
            const ticket = (
              (yield* post("/cashu/mint", {
                mint_url: mint.url,
                unit: "ticket",
                amount: 3,
                static_auth_token: staticAuth
              })).json as { data: { token: string } }
            ).data.token
            const burned = yield* post("/cashu/burn", { mint_url: mint.url, unit: "ticket", token: ticket })
            assert.strictEqual(burned.status, 200, burned.text)
            return yield* started("/cashu/request", {
              recipient_key: silent,
              subkeys: [],
              mint_url: mint.url,
              unit: "ticket",
              amount: 1
            })
          })
        )
        // stopped once the request is recorded as published (one stored but not yet out is sent by the next daemon)
        yield* awaitRecordedSent(first.store, "cashu_request", streamId)
        const published = yield* requestsSent(relay, silent)
        assert.strictEqual(published, 1)
        yield* first.stop

        const second = yield* startDaemon({ relay: relay.url, file, keys, requestTimeout: "3 seconds" })
        assert.deepStrictEqual(yield* second.cashu.balance, [{ mintUrl: mint.url, unit: "ticket", amount: 3 }])
        const events = yield* second.http(awaitEvents(streamId, (events) => events.length > 0, "10 seconds"))
        assert.deepStrictEqual(
          events.map((e) => [e.type, e["reason"]]),
          [["error", "timeout"]],
          "resumed and ended at its deadline, not interrupted"
        )
        assert.strictEqual(yield* requestsSent(relay, silent), published, "the resumed request was not sent again")
      })
    )
  })
})
