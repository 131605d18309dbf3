/**
 * Key handshakes (rest-api.md §3 `POST /key-handshake`, differences.md §c, §d, §f): `portal://` URLs whose kind-27010
 * answers become `key_handshake` events.
 *
 * - One daemon-wide listener (`Conversations.listen`, kind 27010 addressed to us) dispatches each decrypted handshake
 *   by its token to the open handshake, at most once per relay event id (store `markSeen`).
 * - One-shot (generated `token_` + 32 CSPRNG characters): finishes at its first `key_handshake`, or gets `error`
 *   `"timeout"` at its deadline (created + `timeout`, a timer).
 * - Static token: one open stream per token; a repeat POST returns the same URL and stream (409 if `no_request`
 *   differs); every matching handshake appends one event until `close` appends `error` `"closed"`.
 * - Every open handshake is an operation in the store (`key_handshake`, keyed by token, with its stream, URL and
 *   deadline): on startup each is resumed (listener re-armed within its deadline) or ended with `error`.
 * - A user's `preferred_relays` join the pool (source `user`).
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Messages from "@portal/protocol/Messages"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Relays from "./Relays.js"
import * as Streams from "./Streams.js"

/**
 * A `static_token` already has an open stream with another `no_request`.
 * @category errors
 */
export class StaticTokenInUse extends Schema.TaggedError<StaticTokenInUse>()("StaticTokenInUse", {
  token: Schema.String,
  noRequest: Schema.Boolean,
  streamId: Schema.String
}) {
  override get message() {
    return `static_token "${this.token}" is already open with no_request=${this.noRequest} (stream ${this.streamId}); close it first`
  }
}

/**
 * No key-handshake stream with that id.
 * @category errors
 */
export class HandshakeNotFound extends Schema.TaggedError<HandshakeNotFound>()("HandshakeNotFound", {
  streamId: Schema.String
}) {
  override get message() {
    return `No key-handshake stream '${this.streamId}'`
  }
}

/** @category models */
export interface Started {
  readonly url: string
  readonly streamId: string
}

/** @category models */
export interface Service {
  /** Creates (or, for an open static token, returns) a handshake URL and its stream. */
  readonly create: (input: {
    readonly staticToken: Option.Option<string>
    readonly noRequest: boolean
  }) => Effect.Effect<Started, StaticTokenInUse | StoreFailure>
  /** Stops listening and appends `error` `"closed"` (idempotent). */
  readonly close: (streamId: string) => Effect.Effect<void, HandshakeNotFound | StoreFailure>
}

/** @category tags */
export class Handshakes extends Context.Tag("@portal/server/Handshakes")<Handshakes, Service>() {}

/** @category options */
export interface Options {
  /** The key the daemon signs with (the subkey in subkey mode). */
  readonly publicKey: PublicKeyHex
  /** The main key (the subkey proof's `main_key` in subkey mode, else `publicKey`): the URL's npub. */
  readonly mainKey?: PublicKeyHex | undefined
  /** Lifetime of a one-shot URL (default 300 s). */
  readonly timeout?: Duration.DurationInput | undefined
}

/** What the store keeps of an open handshake (operation `key_handshake`, id = token). */
const Payload = Schema.Struct({ url: Schema.String, noRequest: Schema.Boolean, static: Schema.Boolean })
const decodePayload = Schema.decodeUnknownOption(Payload)

const operationKind = "key_handshake"
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** `token_` + 32 characters of `[A-Za-z0-9]` from the CSPRNG (rejection sampling, no bias). */
const generateToken = Effect.sync(() => {
  let out = "token_"
  while (out.length < 38) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && out.length < 38) out += alphabet[byte % 62]
    }
  }
  return out
})

interface Entry {
  readonly token: string
  readonly streamId: string
  readonly url: string
  readonly noRequest: boolean
  readonly static: boolean
}

/**
 * Builds the service, resumes the stored handshakes and starts the listener.
 * @category constructors
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const mainKey = options.mainKey ?? options.publicKey
    const relays = yield* Relays.Relays
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(300))
    const byToken = new Map<string, Entry>()
    const byStream = new Map<string, Entry>()
    const timers = yield* FiberMap.make<string>()
    const lock = yield* Effect.makeSemaphore(1)

    const forget = (entry: Entry) =>
      Effect.gen(function* () {
        byToken.delete(entry.token)
        byStream.delete(entry.streamId)
        yield* store.deleteOperation(operationKind, entry.token)
      })

    /** Appends the terminal event unless the stream already finished; forgets the handshake. */
    const end = (entry: Entry, reason: string, finish: "completed" | "failed") =>
      Effect.gen(function* () {
        yield* streams
          .append(entry.streamId, { type: "error", data: { reason } }, { finish })
          .pipe(Effect.catchTags({ StreamFinished: () => Effect.void, StreamNotFound: () => Effect.void }))
        yield* forget(entry)
      }).pipe(lock.withPermits(1))

    const arm = (entry: Entry, deadline: DateTime.Utc) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const wait = Math.max(0, DateTime.toEpochMillis(deadline) - now)
        yield* FiberMap.run(
          timers,
          entry.streamId,
          Effect.sleep(Duration.millis(wait)).pipe(
            Effect.zipRight(end(entry, "timeout", "failed")),
            Effect.catchAllCause((cause) => Effect.logError("key handshake timeout failed", cause))
          )
        )
      })

    const register = (entry: Entry) => {
      byToken.set(entry.token, entry)
      byStream.set(entry.streamId, entry)
    }

    // ---- recovery (differences.md §f) -------------------------------------------------------------------------
    const now = yield* DateTime.now
    for (const operation of yield* store.listOperations(operationKind)) {
      const payload = decodePayload(operation.payload)
      const streamId = Option.getOrUndefined(operation.streamId)
      if (streamId === undefined) {
        yield* store.deleteOperation(operationKind, operation.id)
        continue
      }
      const info = yield* Effect.option(streams.info(streamId))
      if (Option.isNone(info) || info.value.finished) {
        yield* store.deleteOperation(operationKind, operation.id)
        continue
      }
      if (Option.isNone(payload)) {
        const entry: Entry = { token: operation.id, streamId, url: "", noRequest: false, static: false }
        yield* end(entry, "interrupted by restart: unreadable handshake state", "failed")
        continue
      }
      const entry: Entry = { token: operation.id, streamId, ...payload.value }
      if (entry.static) {
        register(entry)
      } else if (Option.isNone(operation.deadline) || DateTime.lessThanOrEqualTo(operation.deadline.value, now)) {
        yield* end(entry, "timeout", "failed")
      } else {
        register(entry)
        yield* arm(entry, operation.deadline.value)
      }
    }
    // a stream created just before a crash, whose operation was never stored
    for (const info of yield* store.listStreams({ status: "in_flight", kind: "key_handshake" })) {
      if (!byStream.has(info.id)) {
        yield* streams
          .append(info.id, { type: "error", data: { reason: "interrupted by restart: no stored handshake" } })
          .pipe(Effect.catchTags({ StreamFinished: () => Effect.void, StreamNotFound: () => Effect.void }))
      }
    }

    // ---- the listener -------------------------------------------------------------------------------------
    const onHandshake = (incoming: Conversation.Incoming<Messages.KeyHandshakeContent>) =>
      Effect.gen(function* () {
        const entry = byToken.get(incoming.message.token)
        if (entry === undefined) return
        const first = yield* store.markSeen("relay-event", incoming.event.id, Duration.hours(1))
        if (!first) return
        const appended = yield* streams
          .append(
            entry.streamId,
            {
              type: "key_handshake",
              data: { main_key: incoming.sender, preferred_relays: incoming.message.preferredRelays }
            },
            { finish: entry.static ? "never" : "completed" }
          )
          .pipe(
            Effect.as(true),
            Effect.catchTags({
              StreamFinished: () => Effect.succeed(false),
              StreamNotFound: () => Effect.succeed(false)
            })
          )
        if (!entry.static) {
          yield* FiberMap.remove(timers, entry.streamId)
          yield* forget(entry)
        }
        if (appended) yield* relays.addUserRelays(incoming.message.preferredRelays)
      }).pipe(
        lock.withPermits(1),
        Effect.catchAllCause((cause) => Effect.logError("key handshake dispatch failed", cause))
      )

    yield* conversations
      .listen({ kinds: [27010], message: Messages.KeyHandshakeContent })
      .pipe(Stream.runForEach(onHandshake), Effect.forkScoped)

    // ---- the service --------------------------------------------------------------------------------------
    const buildUrl = (token: string, noRequest: boolean) =>
      Effect.map(relays.effective, (set) =>
        HandshakeUrl.build({
          mainKey,
          relays: set,
          token,
          subkey: options.publicKey === mainKey ? undefined : options.publicKey,
          noRequest
        })
      )

    /**
     * Stores the stream and its operation in one transaction (group-committed with concurrent ones on SQLite), so
     * a restart finds both or neither; registered only once durable.
     */
    const start = (token: string, noRequest: boolean, isStatic: boolean) =>
      Effect.gen(function* () {
        const url = yield* buildUrl(token, noRequest)
        const deadline = isStatic ? undefined : DateTime.addDuration(yield* DateTime.now, timeout)
        const streamId = yield* store.transaction(
          Effect.tap(streams.create("key_handshake"), (streamId) =>
            store.putOperation({
              kind: operationKind,
              id: token,
              streamId,
              payload: { url, noRequest, static: isStatic },
              deadline
            })
          )
        )
        return { entry: { token, streamId, url, noRequest, static: isStatic } satisfies Entry, deadline }
      })

    const create: Service["create"] = ({ noRequest, staticToken }) =>
      Option.match(staticToken, {
        // A fresh token is unknown to anyone until it is answered, so only the registration takes the lock and
        // concurrent creates share their commits.
        onNone: () =>
          Effect.gen(function* () {
            const { deadline, entry } = yield* start(yield* generateToken, noRequest, false)
            yield* Effect.gen(function* () {
              register(entry)
              if (deadline !== undefined) yield* arm(entry, deadline)
            }).pipe(lock.withPermits(1))
            return { url: entry.url, streamId: entry.streamId }
          }),
        // A static token is looked up and stored under the lock: one open stream per token.
        onSome: (token) =>
          Effect.gen(function* () {
            const open = byToken.get(token)
            if (open !== undefined) {
              if (open.noRequest !== noRequest) {
                return yield* new StaticTokenInUse({
                  token: open.token,
                  noRequest: open.noRequest,
                  streamId: open.streamId
                })
              }
              return { url: open.url, streamId: open.streamId }
            }
            const { entry } = yield* start(token, noRequest, true)
            register(entry)
            return { url: entry.url, streamId: entry.streamId }
          }).pipe(lock.withPermits(1))
      }).pipe(Effect.withSpan("Handshakes.create"))

    const close: Service["close"] = (streamId) =>
      Effect.gen(function* () {
        const info = yield* streams
          .info(streamId)
          .pipe(Effect.catchTag("StreamNotFound", () => new HandshakeNotFound({ streamId })))
        if (info.kind !== "key_handshake") return yield* new HandshakeNotFound({ streamId })
        const entry = byStream.get(streamId)
        if (entry === undefined || info.finished) return
        yield* FiberMap.remove(timers, streamId)
        yield* end(entry, "closed", "completed")
      }).pipe(Effect.withSpan("Handshakes.close"))

    return Handshakes.of({ create, close })
  })

/** @category layers */
export const layer = (
  options: Options
): Layer.Layer<Handshakes, StoreFailure, Store.Store | Streams.Streams | Conversation.Conversations | Relays.Relays> =>
  Layer.scoped(Handshakes, make(options))
