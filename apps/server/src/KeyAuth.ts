/**
 * `POST /authenticate-key` (rest-api.md §3, protocol.md §7, differences.md §d, §f): a kind-27000 challenge to the
 * user's main key and subkeys through `Conversations`, whose first matching 27001 becomes one `authenticate_key`
 * event (`user_key` = the main key it is attributed to, `recipient` = the key that signed it); no answer by the
 * challenge's `expires_at` gives `error` `"timeout"`.
 *
 * Every pending challenge is an operation in the store (`authenticate_key`, keyed by stream id: keys, challenge,
 * whether it was published, deadline). On startup each is resumed: a published challenge is not re-sent (the user is
 * not prompted twice), its answer is awaited until the deadline; an unpublished one is published now; an expired
 * one ends with `error` `"timeout"`.
 *
 * @since 0.1.0
 */
import * as Conversation from "@portal/nostr/Conversation"
import * as Messages from "@portal/protocol/Messages"
import { type PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Primitives from "@portal/protocol/Primitives"
import type * as Subkey from "@portal/protocol/Subkey"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as Conversing from "./Conversing.js"
import * as Streams from "./Streams.js"

/** @category models */
export interface Service {
  /** Stores the challenge and its stream, then sends it in the background; returns the stream id. */
  readonly start: (input: {
    readonly mainKey: PublicKeyHex
    readonly subkeys: ReadonlyArray<PublicKeyHex>
  }) => Effect.Effect<string, StoreFailure>
}

/** @category tags */
export class KeyAuth extends Context.Tag("@portal/server/KeyAuth")<KeyAuth, Service>() {}

/** @category options */
export interface Options {
  /** Lifetime of a challenge (default 300 s). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Subkey mode (rest-api.md §8.2): the proof that the daemon's key derives from its main key, sent in challenges. */
  readonly subkeyProof?: Subkey.SubkeyProof | undefined
}

const operationKind = "authenticate_key"

const Payload = Schema.Struct({
  mainKey: Primitives.PublicKeyHex,
  subkeys: Schema.Array(Primitives.PublicKeyHex),
  challenge: Schema.String,
  published: Schema.Boolean
})
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Payload)
const encodeStatus = Schema.encode(Messages.AuthResponseStatus)

/**
 * Builds the service and resumes the stored challenges.
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(300))
    const ownership = yield* Conversing.Ownership

    /** The terminal event and the end of the operation, in one transaction (one commit). */
    const finish = (streamId: string, event: { readonly type: string; readonly data: Record<string, unknown> }) =>
      streams
        .append(streamId, event)
        .pipe(
          Effect.asVoid,
          Effect.catchTags({ StreamFinished: () => Effect.void, StreamNotFound: () => Effect.void }),
          Effect.zipRight(store.deleteOperation(operationKind, streamId)),
          store.transaction
        )

    const answered = (streamId: string, challenge: string, reply: Conversation.Reply<Messages.AuthResponseContent>) =>
      Effect.gen(function* () {
        const status = yield* encodeStatus(reply.message.status).pipe(Effect.orDie)
        yield* finish(streamId, {
          type: "authenticate_key",
          data: { user_key: reply.mainKey, recipient: reply.author, challenge, status }
        })
      })

    /** Sends (unless already published) and waits for the answer until `deadline`. */
    const run = (streamId: string, payload: Payload, deadline: DateTime.Utc) =>
      Effect.gen(function* () {
        const remaining = Duration.millis(
          Math.max(0, DateTime.toEpochMillis(deadline) - (yield* Clock.currentTimeMillis))
        )
        const matches = (reply: Messages.AuthResponseContent) => reply.challenge === payload.challenge
        const reply = payload.published
          ? // resumed after a restart: listen only, the user was already prompted
            yield* conversations
              .listen({
                kinds: [27001],
                message: Messages.AuthResponseContent,
                authors: [payload.mainKey, ...payload.subkeys]
              })
              .pipe(
                Stream.filter((incoming) => matches(incoming.message)),
                Stream.map((incoming): Conversation.Reply<Messages.AuthResponseContent> => ({
                  message: incoming.message,
                  event: incoming.event,
                  author: incoming.sender,
                  mainKey: payload.mainKey
                })),
                Stream.runHead,
                Effect.timeoutTo({ duration: remaining, onTimeout: () => Option.none(), onSuccess: (a) => a })
              )
          : yield* Effect.scoped(
              Effect.gen(function* () {
                const content = yield* Messages.encodeContent(Messages.AuthChallengeContent, {
                  challenge: payload.challenge,
                  expiresAt: UnixSeconds.make(Math.floor(DateTime.toEpochMillis(deadline) / 1000)),
                  requiredPermissions: [],
                  subkeyProof: Option.fromNullable(options.subkeyProof)
                })
                const conversation = yield* Conversing.sendRecorded(
                  conversations.open({
                    kind: 27000,
                    content,
                    recipient: payload.mainKey,
                    subkeys: payload.subkeys,
                    replyKinds: [27001],
                    reply: Messages.AuthResponseContent,
                    matches,
                    subkeyProof: (reply) => reply.subkeyProof,
                    timeout: remaining
                  }),
                  store.putOperation({
                    kind: operationKind,
                    id: streamId,
                    streamId,
                    payload: { ...payload, published: true },
                    deadline
                  })
                )
                return yield* conversation.replies.pipe(
                  Stream.runHead,
                  Effect.catchTag("ConversationTimeout", () => Effect.succeedNone)
                )
              })
            )
        if (Option.isSome(reply)) {
          yield* answered(streamId, payload.challenge, reply.value)
        } else {
          yield* finish(streamId, { type: "error", data: { reason: "timeout" } })
        }
      }).pipe(
        Effect.catchTags({
          InvalidMessage: (e) =>
            finish(streamId, { type: "error", data: { reason: `Failed to authenticate key: ${e.message}` } }),
          SignerError: (e) =>
            finish(streamId, { type: "error", data: { reason: `Failed to authenticate key: ${e.message}` } }),
          EncryptionError: (e) =>
            finish(streamId, { type: "error", data: { reason: `Failed to authenticate key: ${e.message}` } })
        }),
        Effect.catchAllCause((cause) => Effect.logError("authenticate-key failed", cause)),
        Effect.withSpan("KeyAuth.run", { attributes: { streamId } })
      )

    // ---- ownership and recovery (differences.md §f, §o) ----------------------------------------------------------
    const challenges = yield* Conversing.own({
      store,
      streams,
      ownership,
      kind: operationKind,
      what: "challenge",
      decode: decodePayload,
      fail: (operation, reason) => finish(operation.streamId, { type: "error", data: { reason } }),
      run
    })

    const start: Service["start"] = ({ mainKey, subkeys }) =>
      Effect.gen(function* () {
        const deadline = DateTime.addDuration(yield* DateTime.now, timeout)
        const payload: Payload = {
          mainKey,
          subkeys: subkeys.filter((key) => key !== mainKey),
          challenge: randomBytes(16).toString("hex"),
          published: false
        }
        // the stream and its operation (leased here) in one transaction, group-committed with concurrent ones on
        // SQLite: a restart, or another instance, finds both or neither
        return yield* challenges.startStream({ payload, deadline }, (streamId) => run(streamId, payload, deadline))
      }).pipe(Effect.withSpan("KeyAuth.start"))

    return KeyAuth.of({ start })
  })

/** @category layers */
export const layer = (
  options: Options = {}
): Layer.Layer<
  KeyAuth,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | Conversing.Ownership
> => Layer.scoped(KeyAuth, make(options))
