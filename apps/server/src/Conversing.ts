/**
 * What the operations share (differences.md §d, §f, §o): the replies to a request whose publication is recorded in
 * the store, so that after a restart a published request is listened for but never re-sent (the user is not prompted
 * twice) and an unpublished one is sent now; the time left until a stored deadline; appends that ignore a stream
 * already finished (late replies are not stored); ownership of every operation of one kind under a lease, with
 * restart recovery and takeover from another instance (`own`); the single-reply request shape (`singleReply`).
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import type { EncryptionError, SignerError } from "@portal/nostr/NostrError"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Primitives from "@portal/protocol/Primitives"
import type * as Model from "@portal/store/Model"
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
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import type * as Streams from "./Streams.js"

/**
 * The stored part every request operation has: who it goes to, what was sent, whether it was published.
 * @category models
 */
export const Outgoing = Schema.Struct({
  mainKey: Primitives.PublicKeyHex,
  subkeys: Schema.Array(Primitives.PublicKeyHex),
  kind: Schema.Int,
  content: Schema.String,
  requestId: Schema.String,
  published: Schema.Boolean
})
/** @category models */
export type Outgoing = typeof Outgoing.Type

/**
 * Time left until `deadline` (zero when it passed).
 * @category time
 */
export const remaining = (deadline: DateTime.Utc) =>
  Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(Math.max(0, DateTime.toEpochMillis(deadline) - now)))

/**
 * Appends unless the stream is gone or already finished.
 * @category streams
 */
export const appendQuietly = (
  streams: Streams.Service,
  streamId: string,
  event: Model.NewEvent,
  finish?: Model.FinishedStatus | "never"
): Effect.Effect<boolean, StoreFailure> =>
  streams
    .append(streamId, event, { finish })
    .pipe(
      Effect.as(true),
      Effect.catchTags({ StreamFinished: () => Effect.succeed(false), StreamNotFound: () => Effect.succeed(false) })
    )

/**
 * Opens a conversation (`open` sends the request) and then runs `record`, which records the request as sent, even
 * when a shutdown interrupts after the send: a request sent but not recorded is sent again after the restart,
 * prompting the user twice. The conversation itself stays interruptible, so a stop while the relays'
 * acknowledgement is awaited can still leave it unrecorded: delivery is at-least-once.
 * @category conversations
 */
export const sendRecorded = <A, E, R, E2, R2>(
  open: Effect.Effect<A, E, R>,
  record: Effect.Effect<void, E2, R2>
): Effect.Effect<A, E | E2, R | R2> => Effect.uninterruptibleMask((restore) => Effect.tap(restore(open), () => record))

/**
 * The replies to `outgoing`: sends it (then runs `onPublished`, which records the publication) unless it was already
 * published, in which case it only listens, from its recipient and subkeys. The stream ends quietly at `deadline`.
 * @category conversations
 */
export const replies = <A, I>(
  conversations: Conversation.Service,
  options: {
    readonly outgoing: Outgoing
    readonly deadline: DateTime.Utc
    readonly replyKinds: ReadonlyArray<number>
    readonly reply: Schema.Schema<A, I>
    readonly matches: (reply: A) => boolean
    readonly isFinal: (reply: A) => boolean
    readonly onPublished: Effect.Effect<void, StoreFailure>
  }
): Effect.Effect<Stream.Stream<Conversation.Reply<A>>, SignerError | EncryptionError | StoreFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const { outgoing } = options
    const left = yield* remaining(options.deadline)
    if (outgoing.published) {
      const mainKey: PublicKeyHex = outgoing.mainKey
      return conversations
        .listen({ kinds: options.replyKinds, message: options.reply, authors: [mainKey, ...outgoing.subkeys] })
        .pipe(
          Stream.filter((incoming) => options.matches(incoming.message)),
          Stream.map((incoming): Conversation.Reply<A> => ({
            message: incoming.message,
            event: incoming.event,
            author: incoming.sender,
            mainKey
          })),
          Stream.takeUntil((reply) => options.isFinal(reply.message)),
          Stream.interruptWhen(Effect.sleep(left))
        )
    }
    const conversation = yield* sendRecorded(
      conversations.open({
        kind: outgoing.kind,
        content: outgoing.content,
        recipient: outgoing.mainKey,
        subkeys: outgoing.subkeys,
        replyKinds: options.replyKinds,
        reply: options.reply,
        matches: options.matches,
        isFinal: options.isFinal,
        timeout: Duration.sum(left, Duration.seconds(1))
      }),
      options.onPublished
    )
    return conversation.replies.pipe(
      Stream.catchTag("ConversationTimeout", () => Stream.empty),
      Stream.interruptWhen(Effect.sleep(left))
    )
  })

// ---- ownership (differences.md §o) ---------------------------------------------------------------------------------

/**
 * Lease settings of the operations this instance runs.
 * @category ownership
 */
export interface LeaseOptions {
  /** How long an operation stays this instance's without a renewal (default 30 s). */
  readonly lease?: Duration.DurationInput | undefined
  /** How often leases are renewed and expired or released operations taken over (default 10 s). */
  readonly renew?: Duration.DurationInput | undefined
}

/**
 * Which instance this is, for the leases of its operations.
 * @category ownership
 */
export interface OwnershipService {
  /**
   * The owner id of this instance's leases: random per process on PostgreSQL; `"sqlite"` on SQLite, where one
   * daemon holds the file, so a restarted daemon owns what the previous one held.
   */
  readonly owner: string
  readonly lease: Duration.Duration
  readonly renew: Duration.Duration
}

/** @category ownership */
export class Ownership extends Context.Tag("@portal/server/Ownership")<Ownership, OwnershipService>() {}

/**
 * The instance's identity. Closing the layer releases every lease it holds (graceful shutdown): the services that
 * run operations are built on it, so their conversations are interrupted before.
 * @category ownership
 */
export const layerOwnership = (options: LeaseOptions = {}): Layer.Layer<Ownership, never, Store.Store> =>
  Layer.scoped(
    Ownership,
    Effect.gen(function* () {
      const store = yield* Store.Store
      const owner = store.backend === "sqlite" ? "sqlite" : randomUUID()
      yield* Effect.addFinalizer(() =>
        store
          .releaseOperations(owner)
          .pipe(Effect.catchAllCause((cause) => Effect.logWarning("releasing the operation leases failed", cause)))
      )
      return Ownership.of({
        owner,
        lease: Duration.decode(options.lease ?? "30 seconds"),
        renew: Duration.decode(options.renew ?? "10 seconds")
      })
    })
  )

/**
 * A stored operation being resumed: its id (its stream id, or a handshake's token), stream and deadline.
 * @category ownership
 */
export interface Resumed {
  readonly id: string
  readonly streamId: string
  readonly deadline: Option.Option<DateTime.Utc>
}

/**
 * The operations of one kind that this instance runs.
 * @category ownership
 */
export interface Owned<R> {
  /** What a new operation is created with (`OperationInput.lease`): leased to this instance. */
  readonly lease: { readonly owner: string; readonly duration: Duration.Duration }
  /**
   * Creates operation `id` with `create` (its stream and its operation row, leased with `lease`, in one store
   * transaction, so that no instance sees one without the other) and runs `run` as its conversation here.
   */
  readonly start: <A, E>(
    id: string,
    create: Effect.Effect<A, E>,
    run: (created: A) => Effect.Effect<void, never, R>
  ) => Effect.Effect<A, E | StoreFailure, R>
  /**
   * `start` for an operation keyed by its stream: creates the stream (`streamId`, default a fresh UUID) and the
   * operation, leased here, in one transaction, then runs `run`; returns the stream id.
   */
  readonly startStream: (
    input: { readonly streamId?: string | undefined; readonly payload: unknown; readonly deadline: DateTime.Utc },
    run: (streamId: string) => Effect.Effect<void, never, R>
  ) => Effect.Effect<string, StoreFailure, R>
  /** Runs `conversation` as operation `id`'s, unless one already runs here. */
  readonly launch: (id: string, conversation: Effect.Effect<void, never, R>) => Effect.Effect<void, never, R>
  /** Stops operation `id`'s conversation here, if it runs. */
  readonly stop: (id: string) => Effect.Effect<void>
}

/**
 * Runs the operations of one kind that this instance owns (differences.md §f, §o). At startup every operation whose
 * lease is free, expired or already ours is claimed and resumed; then, every `renew`, the leases are renewed, expired
 * or released ones are taken over and resumed the same way, and a conversation whose operation is no longer ours
 * (finished or closed by another instance, or taken over after a lost lease) is stopped.
 *
 * Resuming: an operation whose stream is gone or finished is deleted; one that cannot be read ends its stream
 * through `fail`; else `resume` runs (it ends the stream through `fail`, or `launch`es the conversation), or `run` is
 * launched until the stored deadline (an operation without one is unreadable). At startup,
 * an open stream of `streamKind` with no stored operation ends through `fail` too — never silence (every kind stores
 * its stream and operation in one transaction, so such a stream is never another instance's create in progress).
 * @category ownership
 */
export const own = <P, E, R>(
  options: {
    readonly store: Store.Service
    readonly streams: Streams.Service
    readonly ownership: OwnershipService
    /** The operations' kind in the store. */
    readonly kind: string
    /** The streams' kind (default: `kind`). */
    readonly streamKind?: string | undefined
    /** What one operation is, for the reasons (`request`, `challenge`, `payment`). */
    readonly what: string
    readonly decode: (payload: unknown) => Option.Option<P>
    readonly fail: (operation: Resumed, reason: string) => Effect.Effect<void, E | StoreFailure, R>
  } & (
    | {
        /** Resumes an operation: ends it through `fail`, or `launch`es its conversation. */
        readonly resume: (operation: Resumed, payload: P, owned: Owned<R>) => Effect.Effect<void, E | StoreFailure, R>
      }
    | {
        /** The conversation of an operation that runs until its stored deadline (without one it is unreadable). */
        readonly run: (streamId: string, payload: P, deadline: DateTime.Utc) => Effect.Effect<void, never, R>
      }
  )
): Effect.Effect<Owned<R>, E | StoreFailure, Scope.Scope | R> =>
  Effect.gen(function* () {
    const { kind, ownership, store } = options
    const running = yield* FiberMap.make<string>()
    // operations being created here: the claim loop leaves them to `start`
    const starting = new Set<string>()
    const lease = { owner: ownership.owner, duration: ownership.lease }

    const launch = (id: string, conversation: Effect.Effect<void, never, R>) =>
      FiberMap.run(running, id, conversation, { onlyIfMissing: true }).pipe(Effect.asVoid)
    const start: Owned<R>["start"] = (id, create, run) =>
      Effect.acquireUseRelease(
        Effect.sync(() => starting.add(id)),
        () => Effect.tap(store.transaction(create), (created) => launch(id, run(created))),
        () => Effect.sync(() => starting.delete(id))
      )
    const owned: Owned<R> = {
      lease,
      start,
      startStream: (input, run) =>
        Effect.suspend(() => {
          const streamId = input.streamId ?? randomUUID()
          return start(
            streamId,
            store.createStream(streamId, options.streamKind ?? kind).pipe(
              // a fresh UUID, or an id reserved by the caller for this stream: a bug if it exists
              Effect.catchTag("StreamAlreadyExists", (e) => Effect.die(e)),
              Effect.zipRight(
                store.putOperation({
                  kind,
                  id: streamId,
                  streamId,
                  payload: input.payload,
                  deadline: input.deadline,
                  lease
                })
              ),
              Effect.as(streamId)
            ),
            () => run(streamId)
          )
        }),
      launch,
      stop: (id) => FiberMap.remove(running, id)
    }

    const takeOver = (operation: Model.Operation) =>
      Effect.gen(function* () {
        const resumed: Resumed = {
          id: operation.id,
          streamId: Option.getOrElse(operation.streamId, () => operation.id),
          deadline: operation.deadline
        }
        const info = yield* Effect.option(options.streams.info(resumed.streamId))
        if (Option.isNone(info) || info.value.finished) {
          yield* store.deleteOperation(kind, operation.id)
          return
        }
        const payload = options.decode(operation.payload)
        if ("resume" in options && Option.isSome(payload)) return yield* options.resume(resumed, payload.value, owned)
        if ("run" in options && Option.isSome(payload) && Option.isSome(resumed.deadline)) {
          return yield* launch(operation.id, options.run(resumed.streamId, payload.value, resumed.deadline.value))
        }
        yield* options.fail(resumed, `interrupted by restart: unreadable ${options.what} state`)
      })

    const pass = (startup: boolean) =>
      Effect.gen(function* () {
        // open streams listed before the operations: one created (with its operation) in between is not mistaken for
        // a stream without one
        const open = startup ? yield* store.listStreams({ status: "in_flight", kind: options.streamKind ?? kind }) : []
        const before = Array.from(running, ([id]) => id)
        const claimed = yield* store.claimOperations({ owner: ownership.owner, lease: ownership.lease, kind })
        const held = new Set(claimed.map((operation) => operation.id))
        for (const id of before) {
          if (!held.has(id) && !starting.has(id)) yield* FiberMap.remove(running, id)
        }
        for (const operation of claimed) {
          if (starting.has(operation.id) || (yield* FiberMap.has(running, operation.id))) continue
          yield* takeOver(operation)
        }
        if (startup) {
          const stored = new Set(
            (yield* store.listOperations(kind)).map((operation) =>
              Option.getOrElse(operation.streamId, () => operation.id)
            )
          )
          for (const info of open) {
            if (!stored.has(info.id)) {
              yield* options.fail(
                { id: info.id, streamId: info.id, deadline: Option.none() },
                `interrupted by restart: no stored ${options.what}`
              )
            }
          }
        }
      })

    yield* pass(true)
    yield* Effect.sleep(ownership.renew).pipe(
      Effect.zipRight(
        pass(false).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`renewing the ${kind} leases failed`, cause))
        )
      ),
      Effect.forever,
      Effect.forkScoped
    )
    return owned
  })

/**
 * One request, one reply (invoice requests, Cashu requests, recurring payment requests): `Outgoing` sent to the user
 * (or, resumed after it was published, only listened for), the first matching reply turned into the terminal event by
 * `answer`, `error` `"timeout"` at the deadline, `error` `"<failure>: …"` when it cannot be signed or encrypted. The
 * terminal event and the end of the operation are one transaction. Owned and resumed through `own`.
 * @category conversations
 */
export const singleReply = <P extends Outgoing, A, I>(options: {
  readonly store: Store.Service
  readonly streams: Streams.Service
  readonly conversations: Conversation.Service
  readonly ownership: OwnershipService
  /** The operations' and streams' kind. */
  readonly kind: Streams.StreamKind
  readonly decode: (payload: unknown) => Option.Option<P>
  readonly replyKinds: ReadonlyArray<number>
  readonly reply: Schema.Schema<A, I>
  readonly matches: (payload: P, reply: A) => boolean
  /** The terminal event of the reply (and anything it causes first, like storing a subscription). */
  readonly answer: (payload: P, reply: Conversation.Reply<A>) => Effect.Effect<Model.NewEvent, StoreFailure>
  /** The start of the error reason when the request cannot be sent (`Failed to request invoice`). */
  readonly failure: string
  /** The conversation's span name. */
  readonly span: string
}): Effect.Effect<
  { readonly start: (payload: P, deadline: DateTime.Utc) => Effect.Effect<string, StoreFailure> },
  StoreFailure,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const { kind, store, streams } = options
    const finish = (streamId: string, event: Model.NewEvent) =>
      appendQuietly(streams, streamId, event).pipe(
        Effect.zipRight(store.deleteOperation(kind, streamId)),
        store.transaction,
        Effect.asVoid
      )
    const failed = (streamId: string, e: SignerError | EncryptionError) =>
      finish(streamId, { type: "error", data: { reason: `${options.failure}: ${e.message}` } })

    const run = (streamId: string, payload: P, deadline: DateTime.Utc) =>
      Effect.gen(function* () {
        const incoming = yield* replies(options.conversations, {
          outgoing: payload,
          deadline,
          replyKinds: options.replyKinds,
          reply: options.reply,
          matches: (reply) => options.matches(payload, reply),
          isFinal: () => true,
          onPublished: store.putOperation({
            kind,
            id: streamId,
            streamId,
            payload: { ...payload, published: true },
            deadline
          })
        })
        const reply = yield* Stream.runHead(incoming)
        yield* finish(
          streamId,
          Option.isSome(reply)
            ? yield* options.answer(payload, reply.value)
            : { type: "error", data: { reason: "timeout" } }
        )
      }).pipe(
        Effect.scoped,
        Effect.catchTags({
          SignerError: (e) => failed(streamId, e),
          EncryptionError: (e) => failed(streamId, e)
        }),
        Effect.catchAllCause((cause) => Effect.logError(`${kind} failed`, cause)),
        Effect.withSpan(options.span, { attributes: { streamId } })
      )

    const owned = yield* own({
      store,
      streams,
      ownership: options.ownership,
      kind,
      what: "request",
      decode: options.decode,
      fail: (operation, reason) => finish(operation.streamId, { type: "error", data: { reason } }),
      run
    })

    return {
      start: (payload: P, deadline: DateTime.Utc) =>
        owned.startStream({ payload, deadline }, (streamId) => run(streamId, payload, deadline))
    }
  })
