/**
 * Key handshakes (rest-api.md §3 `POST /key-handshake`, differences.md §c, §d, §f): `portal://` URLs whose kind-27010
 * answers become `key_handshake` events.
 *
 * - One daemon-wide listener (`Conversations.listen`, kind 27010 addressed to us) on every instance dispatches each
 *   decrypted handshake by its token to the open handshake found in the store, whichever instance created it, at most
 *   once per relay event id (store `markSeen`, in the appending transaction).
 * - One-shot (generated `token_` + 32 CSPRNG characters): finishes at its first `key_handshake`, or gets `error`
 *   `"timeout"` at its deadline (created + `timeout`, a timer).
 * - Static token: one open stream per token, across instances (the operation's key is the token); a repeat POST
 *   returns the same URL and stream (409 if `no_request` differs); every matching handshake appends one event until
 *   `close` (from any instance) appends `error` `"closed"`.
 * - Every open handshake is an operation in the store (`key_handshake`, keyed by token, with its stream, URL and
 *   deadline), owned by one instance (`Conversing.own`): the owner runs a one-shot's timer; on startup and on
 *   takeover each is resumed (timer re-armed for its deadline) or ended with `error`.
 * - A user's `preferred_relays` join the pool (source `user`).
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Messages from "@portal/protocol/Messages"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import type * as Model from "@portal/store/Model"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes, randomUUID } from "node:crypto"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Conversing from "./Conversing.js"
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

/** Another create holds the static token (rolls back the stream made for it). */
class TokenTaken extends Data.TaggedError("HandshakeTokenTaken")<{ readonly operation: Model.Operation }> {}

/**
 * Builds the service, resumes the stored handshakes this instance owns and starts the listener.
 * @category constructors
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const relays = yield* Relays.Relays
    const ownership = yield* Conversing.Ownership
    const mainKey = options.mainKey ?? options.publicKey
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(300))
    // static-token creates of this process, one at a time (across instances the store's key makes them unique)
    const lock = yield* Effect.makeSemaphore(1)

    /** The terminal event unless the stream already finished, and the end of the operation: one transaction. */
    const end = (token: string, streamId: string, reason: string, finish: "completed" | "failed") =>
      Conversing.appendQuietly(streams, streamId, { type: "error", data: { reason } }, finish).pipe(
        Effect.zipRight(store.deleteOperation(operationKind, token)),
        store.transaction,
        Effect.asVoid
      )

    /** A one-shot handshake's conversation on its owner: `error` `"timeout"` at the deadline. */
    const expiry = (token: string, streamId: string, deadline: DateTime.Utc) =>
      Conversing.remaining(deadline).pipe(
        Effect.flatMap(Effect.sleep),
        Effect.zipRight(end(token, streamId, "timeout", "failed")),
        Effect.catchAllCause((cause) => Effect.logError("key handshake timeout failed", cause))
      )
    /** A static handshake has nothing to run: its slot only marks it as this instance's. */
    const conversation = (token: string, streamId: string, deadline: Option.Option<DateTime.Utc>) =>
      Option.match(deadline, { onNone: () => Effect.never, onSome: (d) => expiry(token, streamId, d) })

    // ---- ownership and recovery (differences.md §f, §o) -----------------------------------------------------------
    const handshakes = yield* Conversing.own({
      store,
      streams,
      ownership,
      kind: operationKind,
      what: "handshake",
      decode: decodePayload,
      fail: (operation, reason) => end(operation.id, operation.streamId, reason, "failed"),
      resume: (operation, payload, owned) =>
        !payload.static && Option.isNone(operation.deadline)
          ? end(operation.id, operation.streamId, "timeout", "failed")
          : owned.launch(
              operation.id,
              conversation(operation.id, operation.streamId, payload.static ? Option.none() : operation.deadline)
            )
    })

    // ---- the listener (every instance) ----------------------------------------------------------------------------
    /**
     * The handshake's token is looked up in the store (any instance may have created it); the dedup mark, the event and
     * the end of a one-shot operation are one transaction, so an event is appended once across instances.
     */
    const onHandshake = (incoming: Conversation.Incoming<Messages.KeyHandshakeContent>) =>
      Effect.gen(function* () {
        const token = incoming.message.token
        const outcome = yield* store.transaction(
          Effect.gen(function* () {
            const operation = yield* store.getOperation(operationKind, token)
            const payload = Option.flatMap(operation, (op) => decodePayload(op.payload))
            const streamId = Option.flatMap(operation, (op) => op.streamId)
            if (Option.isNone(payload) || Option.isNone(streamId)) return Option.none()
            if (!(yield* store.markSeen("relay-event", incoming.event.id, Duration.hours(1)))) return Option.none()
            const appended = yield* Conversing.appendQuietly(
              streams,
              streamId.value,
              {
                type: "key_handshake",
                data: { main_key: incoming.sender, preferred_relays: incoming.message.preferredRelays }
              },
              payload.value.static ? "never" : "completed"
            )
            if (!payload.value.static) yield* store.deleteOperation(operationKind, token)
            return Option.some({ appended, static: payload.value.static })
          })
        )
        if (Option.isNone(outcome)) return
        // the timer, if it runs here (an owner elsewhere stops it at its next renewal; it would find the stream ended)
        if (!outcome.value.static) yield* handshakes.stop(token)
        if (outcome.value.appended) yield* relays.addUserRelays(incoming.message.preferredRelays)
      }).pipe(Effect.catchAllCause((cause) => Effect.logError("key handshake dispatch failed", cause)))

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
     * Stores the stream and its operation (keyed by token, leased here) in one transaction, group-committed with
     * concurrent ones on SQLite: a restart, or another instance, finds both or neither. Fails with `TokenTaken` (and
     * stores nothing) when the token already has an operation.
     */
    const start = (token: string, noRequest: boolean, isStatic: boolean) =>
      Effect.gen(function* () {
        const url = yield* buildUrl(token, noRequest)
        const deadline = isStatic ? undefined : DateTime.addDuration(yield* DateTime.now, timeout)
        const streamId = randomUUID()
        yield* handshakes.start(
          token,
          Effect.gen(function* () {
            yield* store
              .createStream(streamId, "key_handshake")
              .pipe(Effect.catchTag("StreamAlreadyExists", (e) => Effect.die(e)))
            const { inserted, operation } = yield* store.insertOperation({
              kind: operationKind,
              id: token,
              streamId,
              payload: { url, noRequest, static: isStatic },
              deadline,
              lease: handshakes.lease
            })
            if (!inserted) return yield* new TokenTaken({ operation })
          }),
          () => conversation(token, streamId, Option.fromNullable(deadline))
        )
        return { url, streamId }
      })

    /** The open static handshake `operation`, as a repeat POST with `noRequest` gets it. */
    const existing = (token: string, noRequest: boolean, operation: Model.Operation) =>
      Effect.gen(function* () {
        const payload = decodePayload(operation.payload)
        const streamId = Option.getOrElse(operation.streamId, () => "")
        if (Option.isNone(payload) || !payload.value.static || payload.value.noRequest !== noRequest) {
          return yield* new StaticTokenInUse({
            token,
            noRequest: Option.match(payload, { onNone: () => !noRequest, onSome: (p) => p.noRequest }),
            streamId
          })
        }
        return { url: payload.value.url, streamId }
      })

    const create: Service["create"] = ({ noRequest, staticToken }) =>
      Option.match(staticToken, {
        // A fresh token is unknown to anyone until it is answered: no lock, concurrent creates share their commits.
        onNone: () =>
          Effect.flatMap(generateToken, (token) => start(token, noRequest, false)).pipe(
            Effect.catchTag("HandshakeTokenTaken", (e) => Effect.die(e))
          ),
        // A static token: one open stream per token, across instances (the operation's key).
        onSome: (token) =>
          Effect.gen(function* () {
            const open = yield* store.getOperation(operationKind, token)
            if (Option.isSome(open)) return yield* existing(token, noRequest, open.value)
            return yield* start(token, noRequest, true).pipe(
              Effect.catchTag("HandshakeTokenTaken", (e) => existing(token, noRequest, e.operation))
            )
          }).pipe(lock.withPermits(1))
      }).pipe(Effect.withSpan("Handshakes.create"))

    /** From any instance: the terminal event and the end of the operation in one transaction. */
    const close: Service["close"] = (streamId) =>
      Effect.gen(function* () {
        const info = yield* streams
          .info(streamId)
          .pipe(Effect.catchTag("StreamNotFound", () => new HandshakeNotFound({ streamId })))
        if (info.kind !== "key_handshake") return yield* new HandshakeNotFound({ streamId })
        if (info.finished) return
        const tokens = (yield* store.operationsOfStream(streamId))
          .filter((operation) => operation.kind === operationKind)
          .map((operation) => operation.id)
        yield* Conversing.appendQuietly(
          streams,
          streamId,
          { type: "error", data: { reason: "closed" } },
          "completed"
        ).pipe(
          Effect.zipRight(Effect.forEach(tokens, (token) => store.deleteOperation(operationKind, token))),
          store.transaction
        )
        // the timer, if it runs here; an owner elsewhere stops it at its next renewal
        yield* Effect.forEach(tokens, handshakes.stop, { discard: true })
      }).pipe(Effect.withSpan("Handshakes.close"))

    return Handshakes.of({ create, close })
  })

/** @category layers */
export const layer = (
  options: Options
): Layer.Layer<
  Handshakes,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | Relays.Relays | Conversing.Ownership
> => Layer.scoped(Handshakes, make(options))
