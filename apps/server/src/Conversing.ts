/**
 * What the payment, recurring and invoice operations share (differences.md §d, §f): the replies to a request whose
 * publication is recorded in the store, so that after a restart a published request is listened for but never
 * re-sent (the user is not prompted twice) and an unpublished one is sent now; the time left until a stored
 * deadline; appends that ignore a stream already finished (late replies are not stored); restart recovery of every
 * operation of one kind (`resumeAll`).
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import type { EncryptionError, SignerError } from "@portal/nostr/NostrError"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Primitives from "@portal/protocol/Primitives"
import type * as Model from "@portal/store/Model"
import type * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
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
    const conversation = yield* conversations.open({
      kind: outgoing.kind,
      content: outgoing.content,
      recipient: outgoing.mainKey,
      subkeys: outgoing.subkeys,
      replyKinds: options.replyKinds,
      reply: options.reply,
      matches: options.matches,
      isFinal: options.isFinal,
      timeout: Duration.sum(left, Duration.seconds(1))
    })
    yield* options.onPublished
    return conversation.replies.pipe(
      Stream.catchTag("ConversationTimeout", () => Stream.empty),
      Stream.interruptWhen(Effect.sleep(left))
    )
  })

/**
 * Restart recovery of one kind of operation (differences.md §f): every stored operation whose stream is still open
 * is resumed with `resume` (its decoded payload and deadline); one whose stream is gone or finished is deleted; one
 * that cannot be read ends its stream through `fail`; and an open stream of `streamKind` with no stored operation
 * ends through `fail` too — never silence.
 * @category recovery
 */
export const resumeAll = <P, E, R>(options: {
  readonly store: Store.Service
  readonly streams: Streams.Service
  /** The operations' kind in the store. */
  readonly kind: string
  /** The streams' kind (default: `kind`). */
  readonly streamKind?: string
  /** What one operation is, for the reasons (`request`, `challenge`, `payment`). */
  readonly what: string
  readonly decode: (payload: unknown) => Option.Option<P>
  readonly fail: (streamId: string, reason: string) => Effect.Effect<void, E | StoreFailure, R>
  readonly resume: (streamId: string, payload: P, deadline: DateTime.Utc) => Effect.Effect<void, E | StoreFailure, R>
}): Effect.Effect<void, E | StoreFailure, R> =>
  Effect.gen(function* () {
    const resumed = new Set<string>()
    for (const operation of yield* options.store.listOperations(options.kind)) {
      const payload = options.decode(operation.payload)
      const info = yield* Effect.option(options.streams.info(operation.id))
      if (Option.isNone(info) || info.value.finished) {
        yield* options.store.deleteOperation(options.kind, operation.id)
      } else if (Option.isNone(payload) || Option.isNone(operation.deadline)) {
        yield* options.fail(operation.id, `interrupted by restart: unreadable ${options.what} state`)
      } else {
        resumed.add(operation.id)
        yield* options.resume(operation.id, payload.value, operation.deadline.value)
      }
    }
    for (const info of yield* options.store.listStreams({
      status: "in_flight",
      kind: options.streamKind ?? options.kind
    })) {
      if (!resumed.has(info.id)) yield* options.fail(info.id, `interrupted by restart: no stored ${options.what}`)
    }
  })
