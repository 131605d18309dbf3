/**
 * Conversations: the request/response layer of the Portal protocol (protocol.md §3, §7, §11) over `Signer` and
 * `RelayPool`.
 *
 * `open` / `request` / `requestOne` send an encrypted Portal message (NIP-44 v2, one copy per recipient key, the
 * same `p` tags on every copy), then deliver the typed replies that belong to it:
 * 1. the relay pool has already dropped events with a bad id or signature and re-checked the filter;
 * 2. our own events are ignored;
 * 3. the author must be the recipient or one of its known subkeys; a kind-30000 subkey proof whose `e` tag names
 *    one of our requests and which verifies adds its author as a subkey (at most 8), and the request is re-sent to
 *    it (§11.6, "our behaviour");
 * 4. the content is NIP-44-decrypted (cleartext JSON is accepted, as the reference does, unless
 *    `allowCleartext: false`), parsed and decoded with the caller's `Schema`;
 * 5. `matches` correlates it (token / challenge / request_id); a reply carrying a subkey proof must verify against
 *    its author (inside the proof's validity window, ±60 s);
 * 6. each event is delivered once (duplicates tolerated).
 * The stream ends after a reply for which `isFinal` holds, and fails with `ConversationTimeout` when the lifetime
 * (default 300 s) runs out: expiry is a timer, not lazy.
 *
 * `listen` is the receiving side (wallet listeners, the handshake listener): decrypted, decoded incoming
 * messages of some kinds addressed to us. `send` is fire-and-forget (28007 close, 29502 Cashu direct, replies).
 *
 * Message schemas are parameters, so this module does not depend on the message catalogue.
 *
 * @since 0.1.0
 */
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Subkey from "@portal/protocol/Subkey"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Event from "./Event.js"
import type * as Filter from "./Filter.js"
import { BoundedSet } from "./BoundedSet.js"
import { ConversationTimeout, type EncryptionError, type SignerError } from "./NostrError.js"
import * as RelayPool from "./RelayPool.js"
import * as Signer from "./Signer.js"

const SUBKEY_PROOF_KIND = 30000
const MAX_SUBKEYS = 8

/**
 * A request to send and how to recognise its replies.
 * @category models
 */
export interface RequestOptions<A, I> {
  /** Kind of the request (27000, 28000, …). */
  readonly kind: number
  /** The JSON content, before encryption. */
  readonly content: string
  /** The recipient's main key. */
  readonly recipient: PublicKeyHex
  /** Subkeys of the recipient already known: each gets its own copy, and may reply. */
  readonly subkeys?: ReadonlyArray<PublicKeyHex>
  /** Kinds of the replies (27001, 28001, …). */
  readonly replyKinds: ReadonlyArray<number>
  /** Schema of a decrypted reply. */
  readonly reply: Schema.Schema<A, I>
  /** Whether a decoded reply belongs to this request (token / challenge / request_id). */
  readonly matches: (reply: A) => boolean
  /** The reply's own subkey proof, if its schema carries one (27001 `subkey_proof`). */
  readonly subkeyProof?: (reply: A) => Option.Option<Subkey.SubkeyProof>
  /** Ends the conversation after this reply (default: after the first). */
  readonly isFinal?: (reply: A) => boolean
  /** Lifetime (default 300 s). */
  readonly timeout?: Duration.DurationInput
  /** Accept unencrypted JSON replies, as the reference does (default true). */
  readonly allowCleartext?: boolean
}

/**
 * A reply that belongs to a conversation.
 * @category models
 */
export interface Reply<A> {
  readonly message: A
  readonly event: Event.NostrEvent
  /** The key that signed it. */
  readonly author: PublicKeyHex
  /** The recipient's main key it is attributed to (the proof's `main_key` when it came from a subkey). */
  readonly mainKey: PublicKeyHex
}

/**
 * An open conversation.
 * @category models
 */
export interface Conversation<A> {
  /** The request events published (one per recipient key). */
  readonly requests: ReadonlyArray<Event.NostrEvent>
  /** What the relays did with them. */
  readonly published: ReadonlyArray<RelayPool.PublishResult>
  /** The replies; fails with `ConversationTimeout` at the end of the lifetime unless a final reply came first. */
  readonly replies: Stream.Stream<Reply<A>, ConversationTimeout>
}

/**
 * An incoming message addressed to us (see `listen`).
 * @category models
 */
export interface Incoming<A> {
  readonly message: A
  readonly event: Event.NostrEvent
  /** The key that signed it: where a reply goes. */
  readonly sender: PublicKeyHex
}

/**
 * Options of `send`.
 * @category models
 */
export interface SendOptions {
  readonly kind: number
  /** The JSON content, before encryption. */
  readonly content: string
  /** Each key gets its own encrypted copy. */
  readonly recipients: ReadonlyArray<PublicKeyHex>
  /** Extra `p` tags on every copy (for example the counterparty's main key). */
  readonly alsoTag?: ReadonlyArray<PublicKeyHex>
  /** Extra tags on every copy. */
  readonly tags?: ReadonlyArray<ReadonlyArray<string>>
}

/**
 * Conversations over the pool, as the signer.
 * @category models
 */
export interface Service {
  /** Sends a request; the conversation lives until the scope closes, its lifetime runs out or a final reply. */
  readonly open: <A, I>(
    options: RequestOptions<A, I>
  ) => Effect.Effect<Conversation<A>, SignerError | EncryptionError, Scope.Scope>
  /** `open` as a stream of replies. */
  readonly request: <A, I>(
    options: RequestOptions<A, I>
  ) => Stream.Stream<Reply<A>, ConversationTimeout | SignerError | EncryptionError>
  /** The first reply. */
  readonly requestOne: <A, I>(
    options: RequestOptions<A, I>
  ) => Effect.Effect<Reply<A>, ConversationTimeout | SignerError | EncryptionError>
  /** Encrypts and publishes one copy per recipient; no reply expected. */
  readonly send: (
    options: SendOptions
  ) => Effect.Effect<ReadonlyArray<RelayPool.PublishResult>, SignerError | EncryptionError>
  /** Incoming messages of `kinds` addressed to us, decrypted and decoded; undecodable ones are skipped. */
  readonly listen: <A, I>(options: {
    readonly kinds: ReadonlyArray<number>
    readonly message: Schema.Schema<A, I>
    /** Only from these authors. */
    readonly authors?: ReadonlyArray<PublicKeyHex>
    /** Only events created at or after this time (Unix seconds). */
    readonly since?: number
    readonly allowCleartext?: boolean
  }) => Stream.Stream<Incoming<A>>
}

/** @category tags */
export class Conversations extends Context.Tag("@portal/nostr/Conversation")<Conversations, Service>() {}

/**
 * Options of the conversation service.
 * @category models
 */
export interface Options {
  /** Our main key when the signer is a subkey: replies tagged with it reach us too. */
  readonly mainKey?: PublicKeyHex
  /** How long to wait for relays to confirm a subscription (`EOSE`) before publishing (default 2 s). */
  readonly subscribeWait?: Duration.DurationInput
}

const parseJson = Schema.decodeUnknownOption(Schema.parseJson())

/** One `p` tag per distinct key, in order. */
const pTags = (keys: ReadonlyArray<string>) => [...new Set(keys)].map((key) => ["p", key])
const decodeProof = Schema.decodeUnknownOption(Schema.parseJson(Subkey.SubkeyProof))

/**
 * Builds the service.
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Signer.Signer | RelayPool.RelayPool> =>
  Effect.gen(function* () {
    const signer = yield* Signer.Signer
    const pool = yield* RelayPool.RelayPool
    const subscribeWait = Duration.decode(options.subscribeWait ?? "2 seconds")
    const ourKeys: ReadonlyArray<string> =
      options.mainKey === undefined || options.mainKey === signer.publicKey
        ? [signer.publicKey]
        : [signer.publicKey, options.mainKey]

    /** Decrypts (or accepts cleartext JSON) and decodes; `None` when the event is not for us or does not decode. */
    const openContent = <A, I>(
      event: Event.NostrEvent,
      schema: Schema.Schema<A, I>,
      allowCleartext: boolean
    ): Effect.Effect<Option.Option<A>> =>
      signer.nip44Decrypt(event.pubkey, event.content).pipe(
        Effect.map(Option.some),
        Effect.catchAll(() => Effect.succeed(allowCleartext ? Option.some(event.content) : Option.none<string>())),
        Effect.map((text) =>
          Option.flatMap(text, (plain) => Option.flatMap(parseJson(plain), Schema.decodeUnknownOption(schema)))
        )
      )

    const encryptedCopies = (
      kind: number,
      content: string,
      recipients: ReadonlyArray<PublicKeyHex>,
      tags: ReadonlyArray<ReadonlyArray<string>>
    ) =>
      Effect.forEach(recipients, (recipient) =>
        signer
          .nip44Encrypt(recipient, content)
          .pipe(Effect.flatMap((ciphertext) => Signer.signNow(signer, { kind, content: ciphertext, tags })))
      )

    const send = (sendOptions: SendOptions) =>
      Effect.gen(function* () {
        const tags = [
          ...pTags([...sendOptions.recipients, ...(sendOptions.alsoTag ?? [])]),
          ...(sendOptions.tags ?? [])
        ]
        const events = yield* encryptedCopies(sendOptions.kind, sendOptions.content, sendOptions.recipients, tags)
        return yield* Effect.forEach(events, (event) => pool.publish(event), { concurrency: "unbounded" })
      })

    const open = <A, I>(request: RequestOptions<A, I>) =>
      Effect.gen(function* () {
        const lifetime = Duration.decode(request.timeout ?? "300 seconds")
        const allowCleartext = request.allowCleartext ?? true
        const isFinal = request.isFinal ?? (() => true)
        const subkeyProofOf = request.subkeyProof ?? (() => Option.none())
        const mainKey = request.recipient
        // every key the recipient may answer from, mapped to the main key it belongs to
        const known = new Map<PublicKeyHex, PublicKeyHex>([[mainKey, mainKey]])
        for (const subkey of request.subkeys ?? []) known.set(subkey, mainKey)
        const replies = yield* Queue.sliding<Reply<A>>(1024)
        const delivered = new BoundedSet<string>(4096)
        const requestIds = new Set<string>()
        const tags = pTags([...known.keys()])

        const replyFilter = (authors: ReadonlyArray<string>): Filter.Filter => ({
          kinds: [...request.replyKinds, SUBKEY_PROOF_KIND],
          authors,
          "#p": ourKeys
        })

        const handleProof = (event: Event.NostrEvent) =>
          Effect.gen(function* () {
            const referencesUs = event.tags.some(
              (tag) => tag[0] === "e" && tag[1] !== undefined && requestIds.has(tag[1])
            )
            if (!referencesUs || known.size > MAX_SUBKEYS) return
            const text = yield* signer.nip44Decrypt(event.pubkey, event.content).pipe(Effect.option)
            const proof = Option.flatMap(text, decodeProof)
            if (Option.isNone(proof)) return
            const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
            const valid = yield* Subkey.verifyProof(proof.value, event.pubkey, now).pipe(Effect.isSuccess)
            if (!valid) return
            // the proof must tie its author to the recipient: either the author is the key we took for the main key
            // (it was a subkey), or the proof's main key is one we are talking to
            const authorWasRecipient = event.pubkey === mainKey
            if (!authorWasRecipient && ![...known.values()].includes(proof.value.mainKey)) return
            const resendTo: PublicKeyHex = authorWasRecipient ? proof.value.mainKey : event.pubkey
            if (known.has(resendTo)) return
            known.set(event.pubkey, proof.value.mainKey)
            known.set(proof.value.mainKey, proof.value.mainKey)
            yield* Effect.logDebug("conversation learned a subkey").pipe(
              Effect.annotateLogs({ subkey: event.pubkey, mainKey: proof.value.mainKey })
            )
            yield* listenTo([resendTo, event.pubkey])
            const copies = yield* encryptedCopies(request.kind, request.content, [resendTo], pTags([...known.keys()]))
            for (const copy of copies) requestIds.add(copy.id)
            yield* Effect.forEach(copies, (copy) => pool.publish(copy), { discard: true })
          }).pipe(Effect.catchAll(() => Effect.void))

        const handle = (event: Event.NostrEvent): Effect.Effect<void> =>
          Effect.gen(function* () {
            if (event.pubkey === signer.publicKey || delivered.has(event.id)) return
            if (event.kind === SUBKEY_PROOF_KIND && !request.replyKinds.includes(SUBKEY_PROOF_KIND)) {
              return yield* handleProof(event)
            }
            const owner = known.get(event.pubkey)
            if (owner === undefined || !request.replyKinds.includes(event.kind)) return
            const message = yield* openContent(event, request.reply, allowCleartext)
            if (Option.isNone(message) || !request.matches(message.value)) return
            let attributed = owner
            const proof = subkeyProofOf(message.value)
            if (Option.isSome(proof)) {
              const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
              const valid = yield* Subkey.verifyProof(proof.value, event.pubkey, now).pipe(Effect.isSuccess)
              if (!valid) return
              attributed = proof.value.mainKey
            }
            if (!delivered.add(event.id)) return
            yield* Queue.offer(replies, { message: message.value, event, author: event.pubkey, mainKey: attributed })
          })

        const scope = yield* Effect.scope
        const listenTo = (authors: ReadonlyArray<string>, extra: ReadonlyArray<Filter.Filter> = []) =>
          Effect.gen(function* () {
            const sub = yield* pool.subscription([replyFilter(authors), ...extra]).pipe(Scope.extend(scope))
            yield* sub.events.pipe(Stream.runForEach(handle), Effect.forkIn(scope))
            return sub
          })

        // subscribe first (replies are ephemeral), wait briefly for the relays to confirm, then publish
        const events = yield* encryptedCopies(request.kind, request.content, [...known.keys()], tags)
        for (const event of events) requestIds.add(event.id)
        const sub = yield* listenTo(
          [...known.keys()],
          [{ kinds: [SUBKEY_PROOF_KIND], "#e": events.map((event) => event.id) }]
        )
        yield* sub.eose.pipe(Effect.timeout(subscribeWait), Effect.ignore)
        const published = yield* Effect.forEach(events, (event) => pool.publish(event), { concurrency: "unbounded" })
        const requestId = events[0]?.id ?? ""
        const expiry = Effect.gen(function* () {
          yield* Effect.sleep(lifetime)
          return yield* new ConversationTimeout({
            kind: request.kind,
            eventId: requestId,
            afterMillis: Duration.toMillis(lifetime)
          })
        })
        return {
          requests: events,
          published,
          replies: Stream.fromQueue(replies).pipe(
            Stream.takeUntil((reply) => isFinal(reply.message)),
            Stream.interruptWhen(expiry)
          )
        } satisfies Conversation<A>
      })

    const request = <A, I>(options: RequestOptions<A, I>) =>
      Stream.unwrapScoped(Effect.map(open(options), (conversation) => conversation.replies))

    const requestOne = <A, I>(options: RequestOptions<A, I>) =>
      request({ ...options, isFinal: () => true }).pipe(
        Stream.runHead,
        Effect.flatMap(
          Option.match({
            onNone: () =>
              Effect.fail(
                new ConversationTimeout({
                  kind: options.kind,
                  eventId: "",
                  afterMillis: Duration.toMillis(Duration.decode(options.timeout ?? "300 seconds"))
                })
              ),
            onSome: Effect.succeed
          })
        )
      )

    const listen: Service["listen"] = (listenOptions) => {
      const allowCleartext = listenOptions.allowCleartext ?? true
      const filter: Filter.Filter = {
        kinds: listenOptions.kinds,
        "#p": ourKeys,
        ...(listenOptions.authors === undefined ? {} : { authors: listenOptions.authors }),
        ...(listenOptions.since === undefined ? {} : { since: listenOptions.since })
      }
      return pool.subscribe([filter]).pipe(
        Stream.filter((event) => event.pubkey !== signer.publicKey),
        Stream.mapEffect((event) =>
          Effect.map(openContent(event, listenOptions.message, allowCleartext), (message) =>
            Option.map(message, (value) => ({ message: value, event, sender: event.pubkey }))
          )
        ),
        Stream.filterMap((incoming) => incoming)
      )
    }

    return Conversations.of({ open, request, requestOne, send, listen })
  })

/**
 * The service, over the `Signer` and `RelayPool` in context.
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Conversations, never, Signer.Signer | RelayPool.RelayPool> =>
  Layer.effect(Conversations, make(options))
