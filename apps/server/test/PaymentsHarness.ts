/**
 * What the payment end-to-end tests and the payments benchmark share: the real daemon (HTTP application on a random
 * loopback port, SQLite file, loopback relay) whose `nwc` wallet is a real NIP-47 wallet service on the relay
 * (`NwcWalletService`) backed by a wallet of a simulated Lightning network; users from `@portal/user` paying with
 * their own wallet of the same network; and HTTP helpers.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Rates from "@portal/server/Rates"
import * as Services from "@portal/server/Services"
import * as Store from "@portal/store/Store"
import * as TestRelay from "@portal/testing/TestRelay"
import * as NwcWalletService from "@portal/testing/NwcWalletService"
import * as User from "@portal/user/User"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import { authed, jsonRequest, layer as serverLayer, nip05Host, sendJson } from "./HttpServerTest.js"

export interface WireEvent {
  readonly index: number
  readonly timestamp: string
  readonly type: string
  readonly [field: string]: unknown
}

/** The fixed EUR rate the daemons of these tests price with (fiat per BTC). */
export const eurRate = 50_000

/** A temporary SQLite file, removed with the scope. */
export const databaseFile = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(NodePath.join(tmpdir(), "portal-pay-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
).pipe(Effect.map((dir) => NodePath.join(dir, "portal-rest.db")))

export interface DaemonOptions {
  readonly relay: string
  readonly file: string
  readonly keys: Keys.KeyPair
  readonly nwcUrl: Redacted.Redacted<string>
  readonly paymentTimeout?: Duration.DurationInput
  readonly billingInterval?: Duration.DurationInput
  /** How often the daemon's NWC wallet is asked about an invoice (default 200 ms). */
  readonly pollInterval?: Duration.DurationInput
  /** Use this wallet in-process instead of NWC (the benchmark's baseline without the NWC round trips). */
  readonly directWallet?: Wallet.Service
  /** Start with `wallet.ln_backend = none`. */
  readonly noWallet?: boolean
  /** PostgreSQL instead of the SQLite `file` (several daemons on one database). */
  readonly databaseUrl?: string
}

export interface Daemon {
  /** Runs an HTTP call against this daemon. */
  readonly http: <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) => Effect.Effect<A, E>
  /** Stops it (its fibers are interrupted where they are, no terminal events are written). */
  readonly stop: Effect.Effect<void>
  /** Its store, for tests that wait for a state only the store shows. */
  readonly store: Store.Service
}

/** Starts a daemon in its own scope (closed by `stop` or with the enclosing scope). */
export const startDaemon = (options: DaemonOptions) =>
  Effect.gen(function* () {
    const outer = yield* Effect.scope
    const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
    const services = Services.layer({
      keys: options.keys,
      relays: [options.relay],
      pool: { backoff: { initial: "40 millis" } },
      subscribeWait: "1 second",
      httpClient: nip05Host,
      wallet: options.noWallet
        ? undefined
        : {
            layer:
              options.directWallet === undefined
                ? Wallet.layerNwc({ url: options.nwcUrl, pollInterval: options.pollInterval ?? "200 millis" })
                : Layer.succeed(Wallet.Wallet, options.directWallet),
            configured: true
          },
      rates: { source: Rates.fixedSource({ EUR: eurRate }) },
      paymentTimeout: options.paymentTimeout ?? "20 seconds",
      recurring: { billingInterval: options.billingInterval ?? "200 millis", retryDelay: "1 second" }
    }).pipe(
      Layer.provideMerge(
        options.databaseUrl === undefined
          ? Store.layerSqlite({ filename: options.file, retention: false })
          : Store.layerPg({ url: Redacted.make(options.databaseUrl), retention: false })
      ),
      Layer.orDie
    )
    const servicesContext = yield* Layer.buildWithScope(services, scope)
    const context = yield* Layer.buildWithScope(serverLayer({}, {}, {}, Layer.succeedContext(servicesContext)), scope)
    yield* Context.get(servicesContext, RelayPool.RelayPool).awaitOpen().pipe(Effect.timeout("5 seconds"), Effect.orDie)
    const daemon: Daemon = {
      http: (effect) => Effect.provide(effect, context),
      stop: Scope.close(scope, Exit.void),
      store: Context.get(servicesContext, Store.Store)
    }
    return daemon
  })

/** A simulated network with a `daemon` wallet served over NWC on the relay; the URL for `wallet.nwc.url`. */
export const startNetwork = (relay: string, balances: Readonly<Record<string, number>>) =>
  Effect.gen(function* () {
    const network = yield* SimulatedLightning.makeNetwork({ wallets: { daemon: 0, ...balances } })
    const nwc = yield* NwcWalletService.make({ relayUrl: relay, wallet: yield* network.wallet("daemon") })
    return { network, nwcUrl: nwc.url }
  })

/** A user with its own key on its own pool, paying with `wallet`; `listen`s with `policies`. */
export const startUser = <E>(relay: string, wallet: Wallet.Service | undefined, policies: User.Policies<E>) =>
  Effect.gen(function* () {
    const keys = yield* Keys.generate
    const context = yield* Layer.build(
      User.layerLocal({
        secretKey: Redacted.make(Buffer.from(Redacted.value(keys.secretKey)).toString("hex")),
        subscribeWait: "1 second",
        ...(wallet === undefined ? {} : { wallet })
      }).pipe(Layer.provide(RelayPool.layerNode({ relays: [relay], backoff: { initial: "40 millis" } })), Layer.orDie)
    )
    const user = Context.get(context, User.User)
    yield* user.listen(policies)
    return { keys, user, context }
  })

/** What `startShop` and `startScene` take: the other wallets' balances, and daemon options on top of the defaults. */
export interface SceneOptions {
  readonly balances?: Readonly<Record<string, number>>
  readonly daemon?: Partial<Omit<DaemonOptions, "relay">>
}

/**
 * The daemon side most payment tests start with, on the block's `TestRelay`: a network whose `daemon` wallet (0 msat)
 * is served over NWC, beside wallets with `balances`; a daemon on a fresh SQLite file with its own key and that wallet.
 */
export const startShop = (options: SceneOptions = {}) =>
  Effect.gen(function* () {
    const relay = (yield* TestRelay.TestRelay).url
    const { network, nwcUrl } = yield* startNetwork(relay, options.balances ?? {})
    const daemon = yield* startDaemon({
      relay,
      file: options.daemon?.file ?? (yield* databaseFile),
      keys: options.daemon?.keys ?? (yield* Keys.generate),
      nwcUrl,
      ...options.daemon
    })
    return { relay, network, nwcUrl, daemon }
  })

/** `startShop` and a user (its own key) who answers with `policies` and pays with the network's `user` wallet. */
export const startScene = <E>(policies: User.Policies<E>, options: SceneOptions = {}) =>
  Effect.gen(function* () {
    const shop = yield* startShop(options)
    const { keys, user } = yield* startUser(shop.relay, yield* shop.network.wallet("user"), policies)
    return { ...shop, keys, user }
  })

/**
 * For tests that stop a daemon and start it again: a network, a user (its own key) answering with `policies` and
 * paying from its `user` wallet (1 000 000 msat), and `daemon(options)`, which starts the daemon on the same SQLite
 * `file` with the same `keys` each time (stop the running one first).
 */
export const startRestartable = <E>(policies: User.Policies<E>) =>
  Effect.gen(function* () {
    const relay = (yield* TestRelay.TestRelay).url
    const { network, nwcUrl } = yield* startNetwork(relay, { user: 1_000_000 })
    const file = yield* databaseFile
    const keys = yield* Keys.generate
    const { keys: userKeys, user } = yield* startUser(relay, yield* network.wallet("user"), policies)
    const daemon = (options: Partial<Omit<DaemonOptions, "relay" | "file" | "keys" | "nwcUrl">> = {}) =>
      startDaemon({ relay, file, keys, nwcUrl, ...options })
    return { relay, network, nwcUrl, file, keys, userKeys, user, daemon }
  })

export const post = (path: string, body: unknown) => sendJson(jsonRequest("POST", path, body).pipe(authed))

/** POSTs an async route (201 expected): its `stream_id`, and the `url` of a handshake. */
export const startedStream = (path: string, body: unknown) =>
  Effect.flatMap(post(path, body), (r) =>
    r.status === 201
      ? Effect.succeed((r.json as { data: { stream_id: string; url?: string } }).data)
      : Effect.dieMessage(`${path}: ${r.status} ${r.text}`)
  )

/** POSTs an async route and returns its stream id (201 expected). */
export const started = (path: string, body: unknown) => Effect.map(startedStream(path, body), (d) => d.stream_id)

/** The stream's events (index > `after` when given); a stream that is not there (no 200) is an empty list. */
export const poll = (streamId: string) =>
  Effect.map(sendJson(HttpClientRequest.get(`/events/${streamId}`).pipe(authed)), (r) =>
    r.status === 200 ? (r.json as { data: { events: ReadonlyArray<WireEvent> } }).data.events : []
  )

/** The stream's events (index > `after` when given); anything but 200 fails the test. */
export const streamEvents = (streamId: string, after?: number) =>
  Effect.flatMap(
    sendJson(
      HttpClientRequest.get(`/events/${streamId}`).pipe(
        after === undefined ? (r) => r : HttpClientRequest.setUrlParam("after", String(after)),
        authed
      )
    ),
    (r) =>
      r.status === 200
        ? Effect.succeed((r.json as { data: { events: ReadonlyArray<WireEvent> } }).data.events)
        : Effect.dieMessage(`GET /events/${streamId}: ${r.status} ${r.text}`)
  )

/** Polls (`streamEvents`) until the stream has `count` events (`within` at most). */
export const awaitCount = (streamId: string, count: number, within: Duration.DurationInput = "20 seconds") =>
  streamEvents(streamId).pipe(
    Effect.filterOrFail(
      (all) => all.length >= count,
      () => "not yet"
    ),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`stream ${streamId}: fewer than ${count} events within ${String(within)}`)
    }),
    Effect.orDie
  )

/** Polls until `done` holds for the stream's events (`within` at most). */
export const awaitEvents = (
  streamId: string,
  done: (events: ReadonlyArray<WireEvent>) => boolean,
  within: Duration.DurationInput = "20 seconds"
) =>
  poll(streamId).pipe(
    Effect.filterOrFail(done, () => "not yet"),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`stream ${streamId}: condition not reached within ${String(within)}`)
    }),
    Effect.orDie
  )

/** The `status.status` of a `payment_status_update`. */
export const statusOf = (event: WireEvent | undefined): string | undefined =>
  event?.type === "payment_status_update" ? (event["status"] as { status: string }).status : undefined

/** True once a single payment stream ended (`paid`, `timeout`, `error`, or a final user status without monitoring). */
export const endsWith =
  (...statuses: ReadonlyArray<string>) =>
  (events: ReadonlyArray<WireEvent>) =>
    events.some((event) => statuses.includes(statusOf(event) ?? event.type))

/** Polls `GET /wallet/info` until the balance is `msat`. */
export const awaitBalance = (msat: number, within: Duration.DurationInput = "20 seconds") =>
  sendJson(HttpClientRequest.get("/wallet/info").pipe(authed)).pipe(
    Effect.map((r) => (r.json as { data?: { balance_msat: number } }).data?.balance_msat),
    Effect.filterOrFail(
      (balance) => balance === msat,
      () => "not yet"
    ),
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`daemon balance never reached ${msat} msat`) }),
    Effect.orDie
  )

/**
 * Waits until operation `(kind, id)` records its request as sent (`published`). The user can see a request a moment
 * before the daemon records it; a stop in between sends it once more after the restart (at-least-once), so tests of
 * "not sent again" stop the daemon after this.
 */
export const awaitRecordedSent = (store: Store.Service, kind: string, id: string) =>
  store.getOperation(kind, id).pipe(
    Effect.filterOrFail(
      (operation) => Option.exists(operation, (op) => (op.payload as { published?: unknown }).published === true),
      () => "not recorded yet"
    ),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("20 seconds"),
    Effect.orDie
  )

/** The subscription id of a confirmed `recurring_payment_response` (the first event of a recurring request). */
export const confirmedSubscription = (events: ReadonlyArray<WireEvent>): string => {
  const [event] = events
  const status = event?.type === "recurring_payment_response" ? event["status"] : undefined
  const inner = (status as { status?: { status?: string; subscription_id?: string } } | undefined)?.status
  if (inner?.status !== "confirmed" || inner.subscription_id === undefined) {
    throw new Error(`expected a confirmed recurring_payment_response, got ${JSON.stringify(events)}`)
  }
  return inner.subscription_id
}

/**
 * `POST /payments/recurring` for 1000 msat on `calendar` from `firstDue`, expiring at `expiresAt` (epoch seconds),
 * awaiting the user's confirmation: the request's stream and the subscription id.
 */
export const subscribe = (input: {
  readonly mainKey: string
  readonly calendar: string
  readonly firstDue: number
  readonly expiresAt: number
  readonly maxPayments?: number
}) =>
  Effect.gen(function* () {
    const streamId = yield* started("/payments/recurring", {
      main_key: input.mainKey,
      subkeys: [],
      payment_request: {
        description: "Streaming",
        amount: 1000,
        currency: "Millisats",
        recurrence: {
          calendar: input.calendar,
          first_payment_due: input.firstDue,
          ...(input.maxPayments === undefined ? {} : { max_payments: input.maxPayments })
        },
        expires_at: input.expiresAt
      }
    })
    const events = yield* awaitEvents(streamId, (events) => events.length > 0)
    return { streamId, subscriptionId: confirmedSubscription(events) }
  })

/**
 * The billed periods of a subscription on the fixed `recurring-payment-billing` stream, checked for shape: per period
 * stream, its `requested` event and its outcome (undefined while it runs), each written once.
 */
export const billedPeriods = (events: ReadonlyArray<WireEvent>, subscriptionId: string) => {
  const periods = new Map<string, { requested: Array<WireEvent>; outcomes: Array<WireEvent> }>()
  for (const event of events) {
    if (event["subscription_id"] !== subscriptionId) continue
    const streamId = event["stream_id"] as string
    const period = periods.get(streamId) ?? { requested: [], outcomes: [] }
    periods.set(streamId, period)
    if (statusOf(event) === "requested") period.requested.push(event)
    else period.outcomes.push(event)
  }
  return [...periods].map(([streamId, { outcomes, requested }]) => ({ streamId, requested, outcomes }))
}

/**
 * The first `count` events of a stream followed with Server-Sent Events (index > `after` when given), for streams
 * that never finish, such as the fixed ones.
 */
export const followEvents = (streamId: string, count: number, after?: number) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const query = after === undefined ? "" : `?after=${after}`
    const response = yield* client.execute(
      HttpClientRequest.get(`/events/${streamId}${query}`).pipe(
        HttpClientRequest.setHeader("accept", "text/event-stream"),
        authed
      )
    )
    return yield* response.stream.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.filter((line) => line.startsWith("data: ")),
      Stream.map((line) => JSON.parse(line.slice("data: ".length)) as WireEvent),
      Stream.take(count),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray)
    )
  }).pipe(Effect.scoped)
