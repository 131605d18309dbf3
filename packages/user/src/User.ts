/**
 * The user's side of every Portal conversation, as the Portal mobile app plays it (protocol.md §6.3, §7, §11.3,
 * §20), over `Signer`, `RelayPool` and `Jwt` from the context.
 *
 * - `handshake(url)` parses a `portal://` URL and publishes **one** kind-27010 event, NIP-44-encrypted to the URL's
 *   `send_to` key, tagged `p` main key then `p` subkey, **only to the URL's relays**. Relays the pool does not know
 *   (at most 5) are added for the handshake and removed after it. `preferred_relays` is the user's relay list.
 * - Incoming requests have one listener per kind (`{"kinds":[27000],"#p":[me]}` for auth), and one policy per
 *   request type decides about them (`listen` / `serve`); `authChallenges` hands the checked challenges to the
 *   caller instead, who answers with `respond`. Each request is answered at most once (by event id); expired
 *   requests get no answer. Replies go to the user's own relays (the pool's), as in the app.
 * - The default session token of an approval is the app's: a JWT for the service key, signed by the user, valid
 *   168 h (`@portal/jwt`).
 *
 * Later request types (payments, Cashu) add a field to `Policies`, a listener and a `respond…` method each.
 *
 * The listener reads the pool's subscription rather than `Conversation.listen` because `listen` must tell its caller
 * when the relays have the subscription: Portal kinds are ephemeral, and a challenge sent before that is lost.
 * Replies are sent with `Conversation.send`.
 *
 * Not done as the app does: the app sends a handshake only when one of the URL's relays is in its own list and
 * connected (6.3); here the caller decides, and the relays are added for the handshake instead. The user side
 * always signs with its main key (the app never uses a subkey).
 *
 * @since 0.1.0
 */
import * as Jwt from "@portal/jwt/Jwt"
import * as Conversation from "@portal/nostr/Conversation"
import type * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import type { EncryptionError, InvalidSecretKey, SignerError } from "@portal/nostr/NostrError"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Kinds from "@portal/protocol/Kinds"
import * as Messages from "@portal/protocol/Messages"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import type { HandshakeUrlError, InvalidMessage } from "@portal/protocol/ProtocolError"
import * as Subkey from "@portal/protocol/Subkey"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Auth from "./Auth.js"
import { BoundedSet } from "@portal/nostr/BoundedSet"
import { UserAlreadyAnswered, UserKeyMismatch, UserRequestExpired, UserSendFailed } from "./UserError.js"

/**
 * What the Portal app sends as `client_info`.
 * @category constants
 */
export const PORTAL_CLIENT_INFO: Messages.ClientInfo = { name: "Portal", version: "0.1.0" }

/**
 * Lifetime of the Portal app's session tokens.
 * @category constants
 */
export const SESSION_TOKEN_LIFETIME: Duration.Duration = Duration.hours(168)

/** The app connects to at most this many relays of a URL that it did not know (protocol.md §6.3). */
const MAX_TEMPORARY_RELAYS = 5

/**
 * Options of the user side.
 * @category models
 */
export interface Options {
  /** The relays the user reads from, sent as `preferred_relays` (default: the pool's relays at handshake time). */
  readonly relays?: ReadonlyArray<string>
  /** `client_info` of handshakes (default `{"name":"Portal","version":"0.1.0"}`, as the app). */
  readonly clientInfo?: Messages.ClientInfo
  /** Lifetime of the default session token (default 168 hours, as the app). */
  readonly sessionTokenLifetime?: Duration.DurationInput
  /** How long `listen` waits for the relays to confirm its subscriptions (`EOSE`) before returning (default 2 s). */
  readonly subscribeWait?: Duration.DurationInput
  /** Time a relay has to accept a handshake (default: the pool's publish timeout). */
  readonly publishTimeout?: Duration.DurationInput
  /** Request ids remembered to de-duplicate and to answer once (default 10 000). */
  readonly dedupCapacity?: number
  /** Requests decided at the same time by `listen` / `serve` (default 64). */
  readonly concurrency?: number
}

/**
 * Per-handshake overrides.
 * @category models
 */
export interface HandshakeOptions {
  readonly preferredRelays?: ReadonlyArray<string>
  readonly clientInfo?: Messages.ClientInfo
}

/**
 * A handshake that at least one of the URL's relays accepted.
 * @category models
 */
export interface Handshake {
  readonly url: HandshakeUrl.HandshakeUrl
  /** The 27010 event. */
  readonly event: Event.NostrEvent
  /** What each of the URL's relays did with it. */
  readonly published: RelayPool.PublishResult
}

/**
 * A reply that at least one relay accepted.
 * @category models
 */
export interface Sent<A> {
  readonly content: A
  readonly published: ReadonlyArray<RelayPool.PublishResult>
}

/**
 * One policy per request type; a listener runs for each policy given.
 * @category models
 */
export interface Policies<E = never> {
  readonly auth?: Auth.AuthPolicy<E>
}

/**
 * The user side.
 * @category models
 */
export interface Service {
  /** The user's key. */
  readonly publicKey: PublicKeyHex
  /** Sends the key handshake for a `portal://` URL (parsed as the app does) to the URL's relays. */
  readonly handshake: (
    url: string | HandshakeUrl.HandshakeUrl,
    options?: HandshakeOptions
  ) => Effect.Effect<Handshake, HandshakeUrlError | UserSendFailed>
  /**
   * Checked auth challenges addressed to us (see `Auth`), each event once, for as long as the stream runs. The
   * subscription is live once this returns.
   */
  readonly subscribeAuthChallenges: Effect.Effect<Stream.Stream<Auth.AuthChallenge>, never, Scope.Scope>
  /** `subscribeAuthChallenges` as a stream (subscribes when pulled). */
  readonly authChallenges: Stream.Stream<Auth.AuthChallenge>
  /** Answers a challenge (kind 27001 to its recipient, p-tags {service key, recipient}). Once per challenge. */
  readonly respond: (
    challenge: Auth.AuthChallenge,
    answer: Auth.AuthAnswer
  ) => Effect.Effect<Sent<Messages.AuthResponseContent>, UserRequestExpired | UserAlreadyAnswered | UserSendFailed>
  /**
   * Subscribes a listener per policy given and answers every request through its policy, until the scope closes.
   * Returns once the relays confirmed the subscriptions (or `subscribeWait` passed). Failures of a policy or of
   * a reply are logged; the request then gets no answer.
   */
  readonly listen: <E>(policies: Policies<E>) => Effect.Effect<void, never, Scope.Scope>
  /** `listen` until interrupted. */
  readonly serve: <E>(policies: Policies<E>) => Effect.Effect<never>
}

/**
 * The user side of this process.
 * @category tags
 */
export class User extends Context.Tag("@portal/user/User")<User, Service>() {}

const nowSeconds = Effect.map(Clock.currentTimeMillis, (millis) => Math.floor(millis / 1000))

const sendFailed =
  (kind: number) =>
  (error: SignerError | EncryptionError | InvalidMessage): UserSendFailed =>
    new UserSendFailed({
      kind,
      reason: error._tag === "SignerError" ? "Signer" : error._tag === "EncryptionError" ? "Encryption" : "Encoding",
      detail: error.message,
      cause: error
    })

const describeOutcomes = (results: ReadonlyArray<RelayPool.PublishResult>): string => {
  const outcomes = results.flatMap((result) =>
    result.outcomes.map((outcome) =>
      outcome._tag === "Rejected"
        ? `${outcome.relay}: Rejected (${outcome.message})`
        : `${outcome.relay}: ${outcome._tag}`
    )
  )
  return outcomes.length === 0 ? "no relay to publish to" : outcomes.join(", ")
}

/**
 * Builds the service over the `Signer`, `RelayPool` and `Jwt` in context; the `Jwt` must sign with the signer's key.
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, UserKeyMismatch, Signer.Signer | RelayPool.RelayPool | Jwt.Jwt> =>
  Effect.gen(function* () {
    const signer = yield* Signer.Signer
    const pool = yield* RelayPool.RelayPool
    const jwt = yield* Jwt.Jwt
    if (jwt.publicKey !== signer.publicKey) {
      return yield* new UserKeyMismatch({ signerKey: signer.publicKey, jwtKey: jwt.publicKey })
    }
    const conversations = yield* Conversation.make().pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool)
    )
    const me = signer.publicKey
    const clientInfo = options.clientInfo ?? PORTAL_CLIENT_INFO
    const tokenSeconds = Math.floor(Duration.toSeconds(options.sessionTokenLifetime ?? SESSION_TOKEN_LIFETIME))
    const subscribeWait = Duration.decode(options.subscribeWait ?? "2 seconds")
    const dedupCapacity = options.dedupCapacity ?? 10_000
    const concurrency = options.concurrency ?? 64
    const answered = new BoundedSet<string>(dedupCapacity)

    // ---------------------------------------------------------------------------------------------------------
    // Handshake
    // ---------------------------------------------------------------------------------------------------------

    // relays added for handshakes, with the number of handshakes using each
    const temporary = new Map<string, number>()
    const temporaryLock = yield* Effect.makeSemaphore(1)

    /** Makes `url` reachable for the scope; true when it was (or already is) added for a handshake. */
    const borrowRelay = (url: string) =>
      Effect.acquireRelease(
        temporaryLock.withPermits(1)(
          Effect.gen(function* () {
            const uses = temporary.get(url)
            if (uses !== undefined) {
              temporary.set(url, uses + 1)
              return true
            }
            if ((yield* pool.status).some((status) => status.url === url)) return false
            yield* pool.addRelay(url).pipe(Effect.orDie) // normalised before: cannot be invalid
            temporary.set(url, 1)
            return true
          })
        ),
        (counted) =>
          counted
            ? temporaryLock.withPermits(1)(
                Effect.suspend(() => {
                  const uses = temporary.get(url) ?? 1
                  if (uses > 1) {
                    temporary.set(url, uses - 1)
                    return Effect.void
                  }
                  temporary.delete(url)
                  return pool.removeRelay(url).pipe(Effect.ignore)
                })
              )
            : Effect.void
      )

    const handshake: Service["handshake"] = (input, handshakeOptions = {}) =>
      Effect.gen(function* () {
        const url = typeof input === "string" ? yield* HandshakeUrl.parse(input) : input
        const relays = [
          ...new Set(
            url.relays.flatMap((relay) =>
              Either.getOrElse(
                Either.map(RelayPool.normalizeUrl(relay), (u) => [u]),
                () => []
              )
            )
          )
        ]
        if (relays.length === 0) {
          return yield* new UserSendFailed({
            kind: Kinds.KeyHandshake,
            reason: "NoRelay",
            detail: `the URL lists no usable relay (${url.relays.length} given)`
          })
        }
        const preferredRelays =
          handshakeOptions.preferredRelays ??
          options.relays ??
          (yield* pool.status).map((status) => status.url).filter((relay) => !temporary.has(relay))
        const content = yield* Messages.encodeContent(Messages.KeyHandshakeContent, {
          token: url.token,
          clientInfo: handshakeOptions.clientInfo ?? clientInfo,
          preferredRelays
        }).pipe(Effect.mapError(sendFailed(Kinds.KeyHandshake)))
        const event = yield* signer.nip44Encrypt(url.sendTo, content).pipe(
          Effect.flatMap((ciphertext) =>
            Signer.signNow(signer, {
              kind: Kinds.KeyHandshake,
              content: ciphertext,
              tags: url.allKeys.map((key) => ["p", key])
            })
          ),
          Effect.mapError(sendFailed(Kinds.KeyHandshake))
        )
        const known = new Set((yield* pool.status).map((status) => status.url))
        const unknown = relays.filter((relay) => !known.has(relay) && !temporary.has(relay))
        const targets = relays.filter(
          (relay) => known.has(relay) || temporary.has(relay) || unknown.indexOf(relay) < MAX_TEMPORARY_RELAYS
        )
        const published = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* Effect.forEach(targets, borrowRelay, { discard: true })
            return yield* pool.publish(event, {
              relays: targets,
              ...(options.publishTimeout === undefined ? {} : { timeout: options.publishTimeout })
            })
          })
        )
        if (!RelayPool.isDelivered(published)) {
          return yield* new UserSendFailed({
            kind: Kinds.KeyHandshake,
            reason: "NotDelivered",
            detail: describeOutcomes([published])
          })
        }
        return { url, event, published } satisfies Handshake
      }).pipe(Effect.withSpan("User.handshake"))

    // ---------------------------------------------------------------------------------------------------------
    // Incoming requests
    // ---------------------------------------------------------------------------------------------------------

    /** Decrypts (or takes cleartext JSON, as the reference accepts for every kind) and decodes; `None` otherwise. */
    const openContent = <A, I>(event: Event.NostrEvent, schema: Schema.Schema<A, I>) =>
      signer.nip44Decrypt(event.pubkey, event.content).pipe(
        Effect.orElseSucceed(() => event.content),
        Effect.flatMap((text) => Messages.decodeContent(schema, text)),
        Effect.option
      )

    /** A live subscription to requests of `kinds` addressed to us, our own events left out. */
    const subscribeKinds = (kinds: ReadonlyArray<number>) =>
      Effect.gen(function* () {
        const subscription = yield* pool.subscription([{ kinds, "#p": [me] }])
        yield* subscription.eose.pipe(Effect.timeout(subscribeWait), Effect.ignore)
        const seen = new BoundedSet<string>(dedupCapacity)
        return subscription.events.pipe(Stream.filter((event) => event.pubkey !== me && seen.add(event.id)))
      })

    /** The checks of protocol.md §7 step 5. */
    const checkChallenge = (event: Event.NostrEvent): Effect.Effect<Option.Option<Auth.AuthChallenge>> =>
      Effect.gen(function* () {
        const decoded = yield* openContent(event, Messages.AuthChallengeContent)
        if (Option.isNone(decoded)) {
          yield* Effect.logDebug("auth challenge dropped: not for us or not a challenge").pipe(
            Effect.annotateLogs({ eventId: event.id })
          )
          return Option.none()
        }
        const content = decoded.value
        const now = yield* nowSeconds
        if (content.expiresAt < now) {
          yield* Effect.logDebug("auth challenge dropped: expired").pipe(
            Effect.annotateLogs({ eventId: event.id, expiresAt: content.expiresAt, now })
          )
          return Option.none()
        }
        let serviceKey = event.pubkey
        if (Option.isSome(content.subkeyProof)) {
          const verified = yield* Subkey.verifyProof(content.subkeyProof.value, event.pubkey, now).pipe(Effect.either)
          if (Either.isLeft(verified)) {
            yield* Effect.logDebug("auth challenge dropped: invalid subkey proof").pipe(
              Effect.annotateLogs({ eventId: event.id, reason: verified.left.message })
            )
            return Option.none()
          }
          serviceKey = content.subkeyProof.value.mainKey
        }
        return Option.some<Auth.AuthChallenge>({
          eventId: event.id,
          serviceKey,
          recipient: event.pubkey,
          challenge: content.challenge,
          expiresAt: content.expiresAt,
          requiredPermissions: content.requiredPermissions,
          subkeyProof: content.subkeyProof,
          event
        })
      })

    const subscribeAuthChallenges = Effect.map(subscribeKinds([Kinds.AuthChallenge]), (events) =>
      events.pipe(
        Stream.mapEffect(checkChallenge),
        Stream.filterMap((challenge) => challenge)
      )
    )

    // ---------------------------------------------------------------------------------------------------------
    // Replies
    // ---------------------------------------------------------------------------------------------------------

    /** Marks `eventId` answered for the duration of `send`; the mark is taken back if nothing was delivered. */
    const answerOnce = <A, E>(
      kind: number,
      eventId: string,
      expiresAt: number,
      send: Effect.Effect<Sent<A>, E>
    ): Effect.Effect<Sent<A>, E | UserRequestExpired | UserAlreadyAnswered> =>
      Effect.gen(function* () {
        const now = yield* nowSeconds
        if (now > expiresAt) return yield* new UserRequestExpired({ kind, eventId, expiresAt, now })
        if (!answered.add(eventId)) return yield* new UserAlreadyAnswered({ kind, eventId })
        return yield* send.pipe(Effect.tapError(() => Effect.sync(() => answered.delete(eventId))))
      })

    /** Sends `content` to `recipient` with the p-tag set {counterparty, recipient}. */
    const reply = <A>(kind: number, content: A, text: string, recipient: PublicKeyHex, counterparty: PublicKeyHex) =>
      Effect.gen(function* () {
        const published = yield* conversations
          .send({ kind, content: text, recipients: [recipient], alsoTag: [counterparty] })
          .pipe(Effect.mapError(sendFailed(kind)))
        if (!published.some(RelayPool.isDelivered)) {
          return yield* new UserSendFailed({ kind, reason: "NotDelivered", detail: describeOutcomes(published) })
        }
        return { content, published } satisfies Sent<A>
      })

    const respond: Service["respond"] = (challenge, answer) =>
      answerOnce(
        Kinds.AuthResponse,
        challenge.eventId,
        challenge.expiresAt,
        Effect.gen(function* () {
          const status: Messages.AuthResponseStatus =
            answer._tag === "Approve"
              ? {
                  _tag: "Approved",
                  grantedPermissions: answer.grantedPermissions ?? [],
                  sessionToken:
                    answer.sessionToken ??
                    (yield* jwt.issue(challenge.serviceKey, tokenSeconds).pipe(
                      Effect.mapError(
                        (error) =>
                          new UserSendFailed({
                            kind: Kinds.AuthResponse,
                            reason: "SessionToken",
                            detail: error.message,
                            cause: error
                          })
                      )
                    ))
                }
              : { _tag: "Declined", reason: Option.some(answer.reason ?? Auth.DEFAULT_DECLINE_REASON) }
          const content: Messages.AuthResponseContent = {
            challenge: challenge.challenge,
            subkeyProof: Option.none(),
            status
          }
          const text = yield* Messages.encodeContent(Messages.AuthResponseContent, content).pipe(
            Effect.mapError(sendFailed(Kinds.AuthResponse))
          )
          return yield* reply(Kinds.AuthResponse, content, text, challenge.recipient, challenge.serviceKey)
        })
      ).pipe(Effect.withSpan("User.respond", { attributes: { kind: Kinds.AuthResponse } }))

    // ---------------------------------------------------------------------------------------------------------
    // Policies
    // ---------------------------------------------------------------------------------------------------------

    const decideAuth =
      <E>(policy: Auth.AuthPolicy<E>) =>
      (challenge: Auth.AuthChallenge): Effect.Effect<void> =>
        policy(challenge).pipe(
          Effect.flatMap((decision) => (decision._tag === "Ignore" ? Effect.void : respond(challenge, decision))),
          Effect.catchAllCause((cause) =>
            Effect.logWarning("auth challenge not answered", cause).pipe(
              Effect.annotateLogs({ eventId: challenge.eventId, serviceKey: challenge.serviceKey })
            )
          )
        )

    const listen: Service["listen"] = (policies) =>
      Effect.gen(function* () {
        if (policies.auth !== undefined) {
          const challenges = yield* subscribeAuthChallenges
          yield* challenges.pipe(
            Stream.mapEffect(decideAuth(policies.auth), { concurrency, unordered: true }),
            Stream.runDrain,
            Effect.forkScoped
          )
        }
      })

    return User.of({
      publicKey: me,
      handshake,
      subscribeAuthChallenges,
      authChallenges: Stream.unwrapScoped(subscribeAuthChallenges),
      respond,
      listen,
      serve: (policies) => Effect.scoped(Effect.zipRight(listen(policies), Effect.never))
    })
  })

/**
 * The user side over the `Signer`, `RelayPool` and `Jwt` in context.
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<User, UserKeyMismatch, Signer.Signer | RelayPool.RelayPool | Jwt.Jwt> =>
  Layer.effect(User, make(options))

/**
 * The user side with its own key (64 hex or `nsec`): also provides the `Signer` and `Jwt` over that key.
 * @category layers
 */
export const layerLocal = (
  options: Options & { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<User | Signer.Signer | Jwt.Jwt, InvalidSecretKey | UserKeyMismatch, RelayPool.RelayPool> =>
  Layer.unwrapEffect(
    Effect.map(Keys.fromSecret(options.secretKey), (keys) =>
      layer(options).pipe(Layer.provideMerge(Layer.merge(Signer.layerLocalKeys(keys), Jwt.layer(keys))))
    )
  )
