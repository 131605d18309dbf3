/**
 * Payments benchmark: the latency of a full single payment, from `POST /payments/single` to the stream's `paid`,
 * at 1, 10 and 100 payments in flight.
 *
 *   npx tsx bench/payments.ts            (in apps/server)
 *
 * Everything real on loopback, as in the end-to-end tests: the daemon (HTTP server on a random port, SQLite file,
 * `nwc` wallet = a real NIP-47 wallet service on a loopback relay backed by a simulated Lightning network) and a
 * user from `@portal/user` approving and paying with its own wallet of that network. One payment: the daemon makes
 * the invoice over NWC, sends the 28000, the user approves and pays, the daemon's wallet polling (`lookup_invoice`
 * every 200 ms here; 1 s with the daemon's defaults) sees the settlement and appends `paid`. The end is observed
 * over SSE (`GET /events/{id}` with `Accept: text/event-stream` ends at the finished stream), so no polling delay is
 * added on the client side.
 *
 * Two runs: the daemon's wallet over NWC (what the daemon really does), and the same wallet in-process (the daemon,
 * relay and user side without the NIP-47 round trips). Both are CPU-bound on a small machine: every payment signs,
 * encrypts, verifies and decrypts several Nostr events on both sides and in the relay, so latency grows with the
 * number in flight. The NWC stack (`@getalby/sdk` client and wallet service on one relay) degrades further: 50
 * concurrent `make_invoice` calls alone can hit the sdk's reply timeout.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Keys from "@portal/nostr/Keys"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Payments from "@portal/user/Payments"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { authed } from "../test/HttpServerTest.js"
import { databaseFile, startDaemon, started, startNetwork, startUser } from "../test/PaymentsHarness.js"

/** Payments measured per level of concurrency (rounds of `concurrency` payments at once). */
const levels: ReadonlyArray<{ readonly concurrency: number; readonly payments: number }> = [
  { concurrency: 1, payments: 20 },
  { concurrency: 10, payments: 50 },
  { concurrency: 100, payments: 100 }
]

const AMOUNT = 10_000

const nowMs = Effect.map(Clock.currentTimeNanos, (ns) => Number(ns) / 1e6)

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN

/** One payment: request → SSE until the stream finishes; the time it took and whether it ended in `paid`. */
const onePayment = (mainKey: string) =>
  Effect.gen(function* () {
    const start = yield* nowMs
    const streamId = yield* started("/payments/single", {
      main_key: mainKey,
      payment_request: { description: "bench", amount: AMOUNT, currency: "Millisats" }
    })
    const client = yield* HttpClient.HttpClient
    const body = yield* client
      .execute(
        HttpClientRequest.get(`/events/${streamId}`).pipe(
          HttpClientRequest.setHeader("accept", "text/event-stream"),
          authed
        )
      )
      .pipe(
        Effect.flatMap((response) => response.text),
        Effect.scoped
      )
    const paid = body.includes('"status":"paid"')
    return { ms: (yield* nowMs) - start, paid }
  })

const run = (backend: "nwc" | "in-process") =>
  Effect.gen(function* () {
    const relay = yield* TestRelay.TestRelay
    const total = levels.reduce((sum, level) => sum + level.payments, 0)
    const { network, nwcUrl } = yield* startNetwork(relay.url, { user: AMOUNT * (total + 10) })
    const daemon = yield* startDaemon({
      relay: relay.url,
      file: yield* databaseFile,
      keys: yield* Keys.generate,
      nwcUrl,
      paymentTimeout: "120 seconds",
      ...(backend === "nwc" ? {} : { directWallet: yield* network.wallet("daemon") })
    })
    const { keys } = yield* startUser(relay.url, yield* network.wallet("user"), { payment: Payments.approveAll })
    yield* Console.log(
      `\nsingle payment latency, request → paid (${AMOUNT} msat, loopback relay, simulated network), daemon wallet: ${backend === "nwc" ? "NWC over the relay" : "in-process (no NWC round trips)"}`
    )
    yield* Console.log("in flight | payments | p50 ms | p99 ms | max ms | failed")
    for (const level of levels) {
      const results: Array<{ readonly ms: number; readonly paid: boolean }> = []
      for (let done = 0; done < level.payments; done += level.concurrency) {
        const round = Math.min(level.concurrency, level.payments - done)
        results.push(
          ...(yield* daemon.http(
            Effect.all(
              Array.from({ length: round }, () => onePayment(keys.publicKey)),
              { concurrency: "unbounded" }
            )
          ))
        )
      }
      const sorted = results
        .filter((r) => r.paid)
        .map((r) => r.ms)
        .toSorted((a, b) => a - b)
      const failed = results.length - sorted.length
      yield* Console.log(
        `${String(level.concurrency).padStart(9)} | ${String(results.length).padStart(8)} | ${percentile(sorted, 50)
          .toFixed(0)
          .padStart(6)} | ${percentile(sorted, 99).toFixed(0).padStart(6)} | ${(sorted[sorted.length - 1] ?? Number.NaN)
          .toFixed(0)
          .padStart(6)} | ${failed}`
      )
    }
    yield* Console.log(`daemon wallet: ${yield* network.balanceOf("daemon")} msat received`)
  }).pipe(Effect.scoped)

Effect.all([run("nwc"), run("in-process")], { discard: true }).pipe(
  Effect.provide(TestRelay.layer),
  NodeRuntime.runMain
)
