/**
 * A real Nostr relay on loopback for tests and benchmarks (spec: ecosystem.md §9): `@nostr-relay/core` (NIP-01
 * engine: subscriptions, broadcast, id and signature checks) on a `ws` server bound to 127.0.0.1 on a random
 * port, with an in-memory event store (regular, replaceable 0/3/10000–19999 and addressable 30000–39999 events;
 * ephemeral 20000–29999 are only broadcast).
 *
 * Beyond a plain relay, tests get handles to misbehave on purpose:
 * - `stop` / `start`: kill the server (clients see an abrupt close) and bring it back **on the same port** with
 *   the same store, for reconnection tests;
 * - `dropConnections`: cut every client without stopping the server;
 * - `inject(event)`: send a frame to every open subscription of every client **unvalidated and unfiltered**, as a
 *   malicious or buggy relay would (forged signatures, events for someone else);
 * - `store(event)`: put an event into the store without broadcasting it, as if it had been published while a
 *   client was away.
 *
 * Note: `@nostr-relay/core` 0.0.40 matches live broadcasts on ids/authors/kinds/since/until only, not on tag
 * filters such as `#p`, so live subscribers can receive events for another `p`. Stored queries here do honour
 * tag filters. Clients must re-check filters locally anyway (protocol.md §11.2).
 *
 * Each connection's messages are handled in order, as a real relay does. The error lives here rather than in a
 * package-wide module: this is a private test helper.
 *
 * @since 0.1.0
 */
import type { Event as RelayEvent, Filter as RelayFilter, Logger } from "@nostr-relay/common"
import * as Event from "@portal/nostr/Event"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { createRequire } from "node:module"
import { WebSocketServer, type WebSocket } from "ws"

// CommonJS packages, loaded with require (see ecosystem.md §9). `@nostr-relay/common` gets its undeclared
// `@noble/hashes` 1.x from the `packageExtensions` entry in pnpm-workspace.yaml.
const requireHere = createRequire(import.meta.url)

const { EventRepository, EventUtils }: typeof import("@nostr-relay/common") = requireHere("@nostr-relay/common")
const { NostrRelay }: typeof import("@nostr-relay/core") = requireHere("@nostr-relay/core")
const { Validator }: typeof import("@nostr-relay/validator") = requireHere("@nostr-relay/validator")

/**
 * The relay could not listen (or listen again) on loopback.
 * @category errors
 */
export class TestRelayError extends Schema.TaggedError<TestRelayError>()("TestRelayError", {
  reason: Schema.Literal("Listen"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `test relay: ${this.reason}: ${this.detail}`
  }
}

/**
 * A running relay and handles to break it.
 * @category models
 */
export interface Service {
  /** `ws://127.0.0.1:<port>`; stays the same across `stop`/`start`. */
  readonly url: string
  readonly port: number
  /** Terminates every client connection and closes the server; the store survives. Idempotent. */
  readonly stop: Effect.Effect<void>
  /** Listens again on the same port (after `stop`). Idempotent. */
  readonly start: Effect.Effect<void, TestRelayError>
  /** Terminates every client connection; the server keeps listening. */
  readonly dropConnections: Effect.Effect<void>
  /** Sends `["EVENT", <sub>, event]` to every open subscription, bypassing validation and filters; returns the count. */
  readonly inject: (event: unknown) => Effect.Effect<number>
  /** Stores an event without broadcasting it (no validation). */
  readonly store: (event: StoredEvent) => Effect.Effect<void>
  /** Every stored event, newest first. */
  readonly storedEvents: Effect.Effect<ReadonlyArray<RelayEvent>>
  /** Number of connected clients. */
  readonly connections: Effect.Effect<number>
  /** Every `EVENT` message received from clients (raw parsed JSON), oldest first, at most the last 10 000. */
  readonly received: Effect.Effect<ReadonlyArray<unknown>>
}

/**
 * A NIP-01 event as `store` takes it.
 * @category models
 */
export interface StoredEvent {
  readonly id: string
  readonly pubkey: string
  readonly created_at: number
  readonly kind: number
  readonly tags: ReadonlyArray<ReadonlyArray<string>>
  readonly content: string
  readonly sig: string
}

/** @category tags */
export class TestRelay extends Context.Tag("@portal/testing/TestRelay")<TestRelay, Service>() {}

const silentLogger: Logger = {
  setLogLevel: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {}
}

const isReplaceable = (kind: number) => kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)
const isAddressable = (kind: number) => kind >= 30000 && kind < 40000
const dTag = (event: RelayEvent) => event.tags.find((tag) => tag[0] === "d")?.[1] ?? ""

const matchesTags = (event: RelayEvent, filter: RelayFilter): boolean => {
  for (const [key, values] of Object.entries(filter)) {
    if (!key.startsWith("#") || !Array.isArray(values)) continue
    const name = key.slice(1)
    if (!event.tags.some((tag) => tag[0] === name && values.includes(tag[1]))) return false
  }
  return true
}

/** In-memory store with NIP-01 replaceable and addressable semantics. */
class MemoryRepository extends EventRepository {
  readonly events = new Map<string, RelayEvent>()

  isSearchSupported(): boolean {
    return false
  }

  upsert(event: RelayEvent): { isDuplicate: boolean } {
    if (this.events.has(event.id)) return { isDuplicate: true }
    if (isReplaceable(event.kind) || isAddressable(event.kind)) {
      const d = dTag(event)
      for (const existing of this.events.values()) {
        const sameSlot =
          existing.pubkey === event.pubkey &&
          existing.kind === event.kind &&
          (!isAddressable(event.kind) || dTag(existing) === d)
        if (!sameSlot) continue
        const newer =
          existing.created_at > event.created_at || (existing.created_at === event.created_at && existing.id < event.id)
        if (newer) return { isDuplicate: true }
        this.events.delete(existing.id)
      }
    }
    this.events.set(event.id, event)
    return { isDuplicate: false }
  }

  find(filter: RelayFilter): Array<RelayEvent> {
    const found = [...this.events.values()]
      .filter((event) => EventUtils.isMatchingFilter(event, filter) && matchesTags(event, filter))
      // a fresh array; `toSorted` needs ES2023 and the project targets ES2022
      // oxlint-disable-next-line unicorn/no-array-sort
      .sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id))
    return filter.limit === undefined ? found : found.slice(0, filter.limit)
  }

  async destroy(): Promise<void> {
    this.events.clear()
  }
}

/**
 * Signatures are checked on libsecp256k1 (wasm), as production relays check them natively: @nostr-relay/common's
 * pure-JS check would make this relay, rather than the code under test, the slow part of a benchmark. The check is
 * a static of @nostr-relay/common, so it is replaced once per process, for every relay.
 */
const useWasmSignatureCheck = Effect.runSync(
  Effect.cached(
    Effect.map(Event.makeWasmVerifier.pipe(Effect.orElseSucceed(() => Event.pureVerifier)), (verifier) => {
      EventUtils.isSigValid = (event) => Either.isRight(verifier.decodeEither(event))
    })
  )
)

/**
 * Starts a relay in the current scope; closing the scope stops it.
 * @category constructors
 */
export const make: Effect.Effect<Service, TestRelayError, Scope.Scope> = Effect.gen(function* () {
  yield* useWasmSignatureCheck
  const repository = new MemoryRepository()
  const relay = new NostrRelay(repository, { filterResultCacheTtl: 0, logger: silentLogger })
  const validator = new Validator()
  const clients = new Set<WebSocket>()
  const subscriptions = new Map<WebSocket, Set<string>>()
  const received: Array<unknown> = []
  let server: WebSocketServer | undefined
  let port = 0

  const onConnection = (ws: WebSocket) => {
    clients.add(ws)
    subscriptions.set(ws, new Set())
    relay.handleConnection(ws, "127.0.0.1")
    let queue: Promise<void> = Promise.resolve()
    ws.on("message", (data) => {
      const text = data.toString()
      queue = queue.then(async () => {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        if (Array.isArray(parsed)) {
          const subs = subscriptions.get(ws)
          if (parsed[0] === "REQ" && typeof parsed[1] === "string") subs?.add(parsed[1])
          if (parsed[0] === "CLOSE" && typeof parsed[1] === "string") subs?.delete(parsed[1])
          if (parsed[0] === "EVENT") {
            received.push(parsed[1])
            if (received.length > 10_000) received.shift()
          }
        }
        try {
          const message = await validator.validateIncomingMessage(text)
          await relay.handleMessage(ws, message)
        } catch (error) {
          if (ws.readyState === ws.OPEN) {
            ws.send(JSON.stringify(["NOTICE", error instanceof Error ? error.message : "invalid message"]))
          }
        }
      })
    })
    ws.on("close", () => {
      clients.delete(ws)
      subscriptions.delete(ws)
      relay.handleDisconnect(ws)
    })
    ws.on("error", () => {})
  }

  const terminateClients = () => {
    for (const ws of clients) ws.terminate()
  }

  const listen = (wanted: number) =>
    Effect.async<WebSocketServer, TestRelayError>((resume) => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: wanted })
      const onError = (cause: Error) => {
        wss.close()
        resume(Effect.fail(new TestRelayError({ reason: "Listen", detail: `127.0.0.1:${wanted}`, cause })))
      }
      wss.once("error", onError)
      wss.once("listening", () => {
        wss.off("error", onError)
        wss.on("error", () => {})
        wss.on("connection", onConnection)
        resume(Effect.succeed(wss))
      })
    })

  const stop = Effect.async<void>((resume) => {
    const current = server
    server = undefined
    terminateClients()
    if (current === undefined) return resume(Effect.void)
    current.close(() => resume(Effect.void))
  })

  const start = Effect.suspend(() =>
    server !== undefined
      ? Effect.void
      : Effect.map(listen(port), (wss) => {
          server = wss
        })
  )

  server = yield* listen(0)
  const address = server.address()
  port = typeof address === "object" && address !== null ? address.port : 0
  yield* Effect.addFinalizer(() =>
    Effect.zipRight(
      stop,
      Effect.promise(() => relay.destroy())
    )
  )

  return TestRelay.of({
    url: `ws://127.0.0.1:${port}`,
    port,
    stop,
    start,
    dropConnections: Effect.sync(terminateClients),
    inject: (event) =>
      Effect.sync(() => {
        let sent = 0
        for (const [ws, subs] of subscriptions) {
          if (ws.readyState !== ws.OPEN) continue
          for (const sub of subs) {
            ws.send(JSON.stringify(["EVENT", sub, event]))
            sent++
          }
        }
        return sent
      }),
    store: (event) => Effect.sync(() => void repository.upsert({ ...event, tags: event.tags.map((tag) => [...tag]) })),
    storedEvents: Effect.sync(() => repository.find({})),
    connections: Effect.sync(() => clients.size),
    received: Effect.sync(() => [...received])
  })
})

/**
 * A relay for the lifetime of the layer.
 * @category layers
 */
export const layer: Layer.Layer<TestRelay, TestRelayError> = Layer.scoped(TestRelay, make)
