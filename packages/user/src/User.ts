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
 * Payments (`Payments`, `Recurring`, `Invoices`) follow the same shape: a field of `Policies`, a checked request
 * stream and a `respond…` method each. They use the user's own `Wallet` (`options.wallet`, or the context with
 * `layerWithWallet`): approved payments are paid with it, invoices made with it. One listener takes 28000 and 28005
 * (the `payment_type` decides, §5.4); billed periods (a 28000 with `subscription_id`) skip the policy and are charged
 * within the authorised subscription (`Recurring.checkCharge`); a 28007 listener records closes whenever payments or
 * subscriptions are listened to. Subscriptions are kept in memory.
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
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import * as Bolt11 from "@portal/wallet/Bolt11"
import * as Wallet from "@portal/wallet/Wallet"
import { randomUUID } from "node:crypto"
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
import * as Invoices from "./Invoices.js"
import * as Payments from "./Payments.js"
import * as Recurring from "./Recurring.js"
import {
  UserAlreadyAnswered,
  UserKeyMismatch,
  UserRequestExpired,
  UserSendFailed,
  UserSubscriptionNotFound,
  UserWalletFailed
} from "./UserError.js"

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
  /**
   * The user's own Lightning wallet (e.g. `SimulatedLightning`'s `network.wallet(name)`, or an NWC `Wallet`): it
   * pays approved payment requests and makes the invoices of invoice requests. Without one, approved payments are
   * answered `failed`, billed periods `rejected` ("no wallet provided", as the app) and invoice requests fail.
   */
  readonly wallet?: Wallet.Service
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
  /**
   * Single payment requests (28000) without a `subscription_id`. Billed periods of authorised subscriptions are
   * paid without asking it, whenever `payment` or `recurring` is given.
   */
  readonly payment?: Payments.PaymentPolicy<E>
  /** Subscription requests (28005). */
  readonly recurring?: Recurring.RecurringPolicy<E>
  /** Invoice requests (28008). */
  readonly invoice?: Invoices.InvoicePolicy<E>
}

/**
 * The answer to a subscription request, and the subscription it created (`Authorize`).
 * @category models
 */
export interface RecurringSent extends Sent<Messages.RecurringPaymentResponseContent> {
  readonly subscription: Option.Option<Recurring.Subscription>
}

/**
 * The answer to an invoice request, and the invoice the user's wallet made for it.
 * @category models
 */
export interface InvoiceSent extends Sent<Messages.InvoiceResponse> {
  readonly invoice: Wallet.Invoice
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
  /** The user's wallet, when it has one. */
  readonly wallet: Option.Option<Wallet.Service>
  /**
   * Checked single payment requests addressed to us (see `Payments`), each event once, billed periods included
   * (their `subscriptionId` is set). Live once this returns. Requests that fail the invoice checks were already
   * answered `rejected` and are not delivered.
   */
  readonly subscribePaymentRequests: Effect.Effect<Stream.Stream<Payments.PaymentRequest>, never, Scope.Scope>
  /** `subscribePaymentRequests` as a stream. */
  readonly paymentRequests: Stream.Stream<Payments.PaymentRequest>
  /**
   * Answers a single payment request (kind 28001 to the service), once. `Approve` sends `approved`, pays with the
   * user's wallet and sends `success{preimage}` or `failed{reason}`; for a billed period the subscription's checks
   * run first and a refusal is `rejected{reason}`. A wallet that cannot pay is an outcome (`Failed`), not an error.
   */
  readonly respondPayment: (
    request: Payments.PaymentRequest,
    answer: Payments.PaymentAnswer
  ) => Effect.Effect<Payments.PaymentOutcome, UserRequestExpired | UserAlreadyAnswered | UserSendFailed>
  /** Checked subscription requests (28005) addressed to us (see `Recurring`). Live once this returns. */
  readonly subscribeRecurringRequests: Effect.Effect<Stream.Stream<Recurring.RecurringRequest>, never, Scope.Scope>
  /** `subscribeRecurringRequests` as a stream. */
  readonly recurringRequests: Stream.Stream<Recurring.RecurringRequest>
  /** Answers a subscription request (kind 28006), once; `Authorize` keeps the subscription. */
  readonly respondRecurring: (
    request: Recurring.RecurringRequest,
    answer: Recurring.RecurringAnswer
  ) => Effect.Effect<RecurringSent, UserRequestExpired | UserAlreadyAnswered | UserSendFailed>
  /** Checked invoice requests (28008) addressed to us (see `Invoices`). Live once this returns. */
  readonly subscribeInvoiceRequests: Effect.Effect<Stream.Stream<Invoices.InvoiceRequest>, never, Scope.Scope>
  /** `subscribeInvoiceRequests` as a stream. */
  readonly invoiceRequests: Stream.Stream<Invoices.InvoiceRequest>
  /** Makes the invoice with the user's wallet and answers (kind 28009), once. */
  readonly respondInvoice: (
    request: Invoices.InvoiceRequest,
    answer: Invoices.InvoiceAnswer
  ) => Effect.Effect<InvoiceSent, UserRequestExpired | UserAlreadyAnswered | UserSendFailed | UserWalletFailed>
  /**
   * Close notices (28007) addressed to us. A notice from the service key of one of our subscriptions closes it (it is
   * never charged again) as it passes; `listen` records them too. Live once this returns.
   */
  readonly subscribeCloseNotices: Effect.Effect<Stream.Stream<Recurring.CloseNotice>, never, Scope.Scope>
  /** `subscribeCloseNotices` as a stream. */
  readonly closeNotices: Stream.Stream<Recurring.CloseNotice>
  /** The subscriptions the user authorised, active and closed, oldest first. */
  readonly subscriptions: Effect.Effect<ReadonlyArray<Recurring.Subscription>>
  /** Closes one of our subscriptions: it is never charged again, and the service gets a 28007 (`by_service:false`). */
  readonly closeSubscription: (
    subscriptionId: string,
    reason?: string
  ) => Effect.Effect<Sent<Messages.CloseRecurringPaymentContent>, UserSubscriptionNotFound | UserSendFailed>
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

/** Logs why a request was dropped unanswered; None. */
const dropped = (what: string, event: Event.NostrEvent, why: string) =>
  Effect.as(Effect.logDebug(`${what} dropped: ${why}`).pipe(Effect.annotateLogs({ eventId: event.id })), Option.none())

/** Logs a failed decision or reply; the request then gets no (further) answer. */
const logUnanswered =
  (what: string, eventId: string, serviceKey: string) =>
  <E>(effect: Effect.Effect<unknown, E>): Effect.Effect<void> =>
    effect.pipe(
      Effect.asVoid,
      Effect.catchAllCause((cause) =>
        Effect.logWarning(`${what} not answered`, cause).pipe(Effect.annotateLogs({ eventId, serviceKey }))
      )
    )

/** The checks of protocol.md §9.1 step 3 for a subscription request. */
const checkRecurring = (
  event: Event.NostrEvent,
  content: Messages.RecurringPaymentRequest
): Effect.Effect<Option.Option<Recurring.RecurringRequest>> =>
  Effect.gen(function* () {
    const now = yield* nowSeconds
    if (content.expiresAt < now) return yield* dropped("subscription request", event, "expired")
    if (content.amount <= 0) return yield* dropped("subscription request", event, "amount 0")
    const calendar = yield* Effect.either(Calendar.parse(content.recurrence.calendar))
    if (Either.isLeft(calendar)) return yield* dropped("subscription request", event, calendar.left.message)
    return Option.some<Recurring.RecurringRequest>({
      eventId: event.id,
      serviceKey: event.pubkey,
      requestId: content.requestId,
      amount: content.amount,
      currency: content.currency,
      exchangeRate: content.currentExchangeRate,
      recurrence: content.recurrence,
      calendar: calendar.right,
      expiresAt: content.expiresAt,
      description: content.description,
      authToken: content.authToken,
      content,
      event
    })
  })

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

    /** Events of `kind` addressed to us that pass `check`, each once. */
    const subscribeChecked = <A>(kind: number, check: (event: Event.NostrEvent) => Effect.Effect<Option.Option<A>>) =>
      Effect.map(subscribeKinds([kind]), (events) =>
        events.pipe(
          Stream.mapEffect(check),
          Stream.filterMap((checked) => checked)
        )
      )

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

    const subscribeAuthChallenges = subscribeChecked(Kinds.AuthChallenge, checkChallenge)

    // ---------------------------------------------------------------------------------------------------------
    // Replies
    // ---------------------------------------------------------------------------------------------------------

    /** Marks `eventId` answered unless it expired or was answered already. */
    const claim = (kind: number, eventId: string, expiresAt: number) =>
      Effect.gen(function* () {
        const now = yield* nowSeconds
        if (now > expiresAt) return yield* new UserRequestExpired({ kind, eventId, expiresAt, now })
        if (!answered.add(eventId)) return yield* new UserAlreadyAnswered({ kind, eventId })
      })

    /** Takes the mark back (nothing was delivered). */
    const release = (eventId: string) => Effect.sync(() => answered.delete(eventId))

    /** Marks `eventId` answered for the duration of `send`; the mark is taken back if nothing was delivered. */
    const answerOnce = <A, E>(
      kind: number,
      eventId: string,
      expiresAt: number,
      send: Effect.Effect<A, E>
    ): Effect.Effect<A, E | UserRequestExpired | UserAlreadyAnswered> =>
      Effect.zipRight(claim(kind, eventId, expiresAt), send.pipe(Effect.tapError(() => release(eventId))))

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
    // Payments (28000 / 28001), recurring (28005 / 28006 / 28007), invoices (28008 / 28009)
    // ---------------------------------------------------------------------------------------------------------

    const wallet = Option.fromNullable(options.wallet)
    /** The subscriptions the user authorised, by id (insertion order = authorisation order). */
    const subscriptions = new Map<string, Recurring.Subscription>()
    /** Billed periods are charged one at a time (the due check and the payment record must not interleave). */
    const chargeLock = yield* Effect.makeSemaphore(1)

    const sendPaymentStatus = (serviceKey: PublicKeyHex, requestId: string, status: Messages.PaymentStatus) =>
      Effect.gen(function* () {
        const content: Messages.PaymentResponseContent = { requestId, status }
        const text = yield* Messages.encodeContent(Messages.PaymentResponseContent, content).pipe(
          Effect.mapError(sendFailed(Kinds.PaymentResponse))
        )
        return yield* reply(Kinds.PaymentResponse, content, text, serviceKey, serviceKey)
      })

    /** Answers `rejected{reason}` to a request that failed a check before any policy saw it. */
    const autoReject = (event: Event.NostrEvent, requestId: string, expiresAt: number, reason: string) =>
      answerOnce(
        Kinds.PaymentResponse,
        event.id,
        expiresAt,
        sendPaymentStatus(event.pubkey, requestId, { _tag: "Rejected", reason: Option.some(reason) })
      ).pipe(
        Effect.zipRight(
          Effect.logDebug("payment request rejected before any policy").pipe(
            Effect.annotateLogs({ eventId: event.id, reason })
          )
        ),
        Effect.catchAllCause((cause) =>
          Effect.logWarning("payment request rejection not sent", cause).pipe(
            Effect.annotateLogs({ eventId: event.id })
          )
        )
      )

    /** The checks of protocol.md §8 step 3 and §9.3 step 1 for a single payment request. */
    const checkPayment = (
      event: Event.NostrEvent,
      content: Messages.SinglePaymentRequest
    ): Effect.Effect<Option.Option<Payments.PaymentRequest>> =>
      Effect.gen(function* () {
        const now = yield* nowSeconds
        if (content.expiresAt < now) return yield* dropped("payment request", event, "expired")
        if (content.amount <= 0) return yield* dropped("payment request", event, "amount 0")
        const reject = (reason: string) =>
          Effect.as(autoReject(event, content.requestId, content.expiresAt, reason), Option.none())
        const amountMsat = yield* Effect.either(
          Currency.toMsat(content.amount, content.currency, content.currentExchangeRate)
        )
        if (Either.isLeft(amountMsat)) {
          return yield* reject(`Cannot convert the requested amount to msat: ${amountMsat.left.message}`)
        }
        const invoice = yield* Effect.either(Bolt11.decode(content.invoice))
        if (Either.isLeft(invoice)) {
          return yield* reject(`An unexpected error occurred: ${invoice.left.message}`)
        }
        const invoiceMsat = invoice.right.amountMsat
        if (invoiceMsat === undefined) return yield* reject("The invoice has no amount")
        if (!Payments.invoiceMatches(invoiceMsat, amountMsat.right)) {
          return yield* reject(
            `Invoice amount does not match the requested amount: invoice ${invoiceMsat} msat, requested ${amountMsat.right} msat`
          )
        }
        return Option.some<Payments.PaymentRequest>({
          eventId: event.id,
          serviceKey: event.pubkey,
          requestId: content.requestId,
          amount: content.amount,
          currency: content.currency,
          exchangeRate: content.currentExchangeRate,
          amountMsat: amountMsat.right,
          invoice: invoice.right,
          expiresAt: content.expiresAt,
          subscriptionId: content.subscriptionId,
          description: content.description,
          authToken: content.authToken,
          content,
          event
        })
      })

    type PaymentKindRequest =
      | { readonly _tag: "Single"; readonly request: Payments.PaymentRequest }
      | { readonly _tag: "Recurring"; readonly request: Recurring.RecurringRequest }

    /** 28000 and 28005 share one listener and one union; the `payment_type` decides, not the kind (§5.4). */
    const checkPaymentKind = (event: Event.NostrEvent): Effect.Effect<Option.Option<PaymentKindRequest>> =>
      Effect.flatMap(openContent(event, Messages.PaymentRequestContent), (decoded) => {
        if (Option.isNone(decoded)) return dropped("payment request", event, "not for us or not a payment request")
        const content = decoded.value
        return content._tag === "Single"
          ? Effect.map(
              checkPayment(event, content),
              Option.map((request): PaymentKindRequest => ({ _tag: "Single", request }))
            )
          : Effect.map(
              checkRecurring(event, content),
              Option.map((request): PaymentKindRequest => ({ _tag: "Recurring", request }))
            )
      })

    const subscribePaymentKinds = Effect.map(
      subscribeKinds([Kinds.PaymentRequest, Kinds.RecurringPaymentRequest]),
      (events) =>
        events.pipe(
          Stream.mapEffect(checkPaymentKind),
          Stream.filterMap((request) => request)
        )
    )

    const subscribePaymentRequests = Effect.map(subscribePaymentKinds, (requests) =>
      Stream.filterMap(requests, (r) => (r._tag === "Single" ? Option.some(r.request) : Option.none()))
    )

    const subscribeRecurringRequests = Effect.map(subscribePaymentKinds, (requests) =>
      Stream.filterMap(requests, (r) => (r._tag === "Recurring" ? Option.some(r.request) : Option.none()))
    )

    /**
     * `approved`, pay, then `success{preimage}` or `failed{reason}`. `first` wraps the first message sent (its
     * failure takes the answer back); `onPaid` runs before `success` is sent.
     */
    const pay = (
      request: Payments.PaymentRequest,
      first: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>,
      onPaid: (payment: Wallet.Payment) => Effect.Effect<void>
    ) =>
      Effect.gen(function* () {
        const send = (status: Messages.PaymentStatus) =>
          sendPaymentStatus(request.serviceKey, request.requestId, status)
        if (Option.isNone(wallet)) {
          const reason = `${Payments.PAYMENT_FAILED_PREFIX}no wallet provided`
          yield* first(send({ _tag: "Failed", reason: Option.some(reason) }))
          return Payments.PaymentOutcome.Failed({ reason, cause: Option.none() })
        }
        yield* first(send({ _tag: "Approved" }))
        const paid = yield* Effect.either(wallet.value.payInvoice(request.invoice.bolt11))
        if (Either.isLeft(paid)) {
          const reason = `${Payments.PAYMENT_FAILED_PREFIX}${paid.left.message}`
          yield* send({ _tag: "Failed", reason: Option.some(reason) })
          return Payments.PaymentOutcome.Failed({ reason, cause: Option.some(paid.left) })
        }
        yield* onPaid(paid.right)
        yield* send({ _tag: "Success", preimage: Option.some(paid.right.preimage) })
        return Payments.PaymentOutcome.Paid({ payment: paid.right })
      })

    /** A billed period: the subscription's checks (§9.3), the balance, then `pay`, recording the charge. */
    const charge = (
      request: Payments.PaymentRequest,
      subscriptionId: string,
      first: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
    ) =>
      chargeLock.withPermits(1)(
        Effect.gen(function* () {
          const refuse = (reason: string) =>
            Effect.as(
              first(
                sendPaymentStatus(request.serviceKey, request.requestId, {
                  _tag: "Rejected",
                  reason: Option.some(reason)
                })
              ),
              Payments.PaymentOutcome.Rejected({ reason })
            )
          const acceptedAt = yield* nowSeconds
          const checked = Recurring.checkCharge(
            Option.fromNullable(subscriptions.get(subscriptionId)),
            request,
            acceptedAt
          )
          if (Either.isLeft(checked)) return yield* refuse(checked.left)
          if (Option.isNone(wallet)) return yield* refuse(Recurring.NO_WALLET_REASON)
          const balance = yield* Effect.either(wallet.value.balance)
          if (Either.isLeft(balance)) return yield* refuse(`Recurrent payment failed: ${balance.left.message}`)
          if (balance.right <= (request.invoice.amountMsat ?? 0))
            return yield* refuse(Recurring.INSUFFICIENT_BALANCE_REASON)
          return yield* pay(request, first, () =>
            Effect.sync(() => {
              const current = subscriptions.get(subscriptionId) ?? checked.right
              subscriptions.set(subscriptionId, {
                ...current,
                paymentsMade: current.paymentsMade + 1,
                lastPaymentAt: Option.some(acceptedAt)
              })
            })
          )
        })
      )

    const respondPayment: Service["respondPayment"] = (request, answer) =>
      Effect.suspend(() => respondPaymentOnce(request, answer)).pipe(
        Effect.withSpan("User.respondPayment", { attributes: { kind: Kinds.PaymentResponse } })
      )

    /** One run of `respondPayment` (its flags belong to the run). */
    function respondPaymentOnce(request: Payments.PaymentRequest, answer: Payments.PaymentAnswer) {
      // the answer is taken back if its first message fails or is interrupted before it went out; after that the
      // service has heard from us (and money may have moved), so it stays answered
      let claimed = false
      let delivered = false
      return Effect.gen(function* () {
        const kind = Kinds.PaymentResponse
        yield* claim(kind, request.eventId, request.expiresAt)
        claimed = true
        const first = <A, E>(effect: Effect.Effect<A, E>) =>
          effect.pipe(
            Effect.tap(() => {
              delivered = true
            }),
            Effect.tapError(() => release(request.eventId))
          )
        const send = (status: Messages.PaymentStatus) =>
          sendPaymentStatus(request.serviceKey, request.requestId, status)
        switch (answer._tag) {
          case "Reject": {
            const reason = answer.reason ?? Payments.DEFAULT_REJECT_REASON
            yield* first(send({ _tag: "Rejected", reason: Option.some(reason) }))
            return Payments.PaymentOutcome.Rejected({ reason })
          }
          case "Fail": {
            const reason = answer.reason ?? "Payment failed"
            yield* first(send({ _tag: "Failed", reason: Option.some(reason) }))
            return Payments.PaymentOutcome.Failed({ reason, cause: Option.none() })
          }
          case "Approve":
            return yield* Option.match(request.subscriptionId, {
              onNone: () => pay(request, first, () => Effect.void),
              onSome: (subscriptionId) => charge(request, subscriptionId, first)
            })
        }
      }).pipe(Effect.onInterrupt(() => (claimed && !delivered ? release(request.eventId) : Effect.void)))
    }

    const respondRecurring: Service["respondRecurring"] = (request, answer) =>
      answerOnce(
        Kinds.RecurringPaymentResponse,
        request.eventId,
        request.expiresAt,
        Effect.gen(function* () {
          const send = (content: Messages.RecurringPaymentResponseContent) =>
            Messages.encodeContent(Messages.RecurringPaymentResponseContent, content).pipe(
              Effect.mapError(sendFailed(Kinds.RecurringPaymentResponse)),
              Effect.flatMap((text) =>
                reply(Kinds.RecurringPaymentResponse, content, text, request.serviceKey, request.serviceKey)
              )
            )
          if (answer._tag === "Reject") {
            const sent = yield* send({
              requestId: request.requestId,
              status: { _tag: "Rejected", reason: Option.some(answer.reason ?? Recurring.DEFAULT_REJECT_REASON) }
            })
            return { ...sent, subscription: Option.none() } satisfies RecurringSent
          }
          const subscriptionId = randomUUID()
          const subscription = Recurring.fromRequest(request, subscriptionId, yield* nowSeconds)
          subscriptions.set(subscriptionId, subscription)
          const sent = yield* send({
            requestId: request.requestId,
            status: {
              _tag: "Confirmed",
              subscriptionId,
              authorizedAmount: request.amount,
              authorizedCurrency: request.currency,
              authorizedRecurrence: request.recurrence
            }
          }).pipe(Effect.tapError(() => Effect.sync(() => subscriptions.delete(subscriptionId))))
          return { ...sent, subscription: Option.some(subscription) } satisfies RecurringSent
        })
      ).pipe(Effect.withSpan("User.respondRecurring", { attributes: { kind: Kinds.RecurringPaymentResponse } }))

    /** Records a close notice: it closes our subscription when its service key sent it. */
    const checkClose = (event: Event.NostrEvent): Effect.Effect<Option.Option<Recurring.CloseNotice>> =>
      Effect.flatMap(openContent(event, Messages.CloseRecurringPaymentContent), (decoded) => {
        if (Option.isNone(decoded)) return dropped("close notice", event, "not for us or not a close notice")
        const content = decoded.value
        return Effect.map(nowSeconds, (now) => {
          const subscription = subscriptions.get(content.subscriptionId)
          const closes = subscription !== undefined && subscription.serviceKey === event.pubkey
          if (closes && subscription.status._tag === "Active") {
            subscriptions.set(content.subscriptionId, {
              ...subscription,
              status: Recurring.SubscriptionStatus.Closed({ by: "service", at: now, reason: content.reason })
            })
          }
          return Option.some<Recurring.CloseNotice>({
            subscriptionId: content.subscriptionId,
            reason: content.reason,
            byService: content.byService,
            sender: event.pubkey,
            closed: closes,
            event
          })
        })
      })

    const subscribeCloseNotices = subscribeChecked(Kinds.RecurringPaymentCancel, checkClose)

    const closeSubscription: Service["closeSubscription"] = (subscriptionId, reason) =>
      Effect.gen(function* () {
        const subscription = subscriptions.get(subscriptionId)
        if (subscription === undefined) return yield* new UserSubscriptionNotFound({ subscriptionId })
        const closedReason = Option.fromNullable(reason)
        if (subscription.status._tag === "Active") {
          subscriptions.set(subscriptionId, {
            ...subscription,
            status: Recurring.SubscriptionStatus.Closed({ by: "user", at: yield* nowSeconds, reason: closedReason })
          })
        }
        const content: Messages.CloseRecurringPaymentContent = {
          subscriptionId,
          reason: closedReason,
          byService: false
        }
        const text = yield* Messages.encodeContent(Messages.CloseRecurringPaymentContent, content).pipe(
          Effect.mapError(sendFailed(Kinds.RecurringPaymentCancel))
        )
        return yield* reply(
          Kinds.RecurringPaymentCancel,
          content,
          text,
          subscription.serviceKey,
          subscription.serviceKey
        )
      }).pipe(Effect.withSpan("User.closeSubscription"))

    /** The checks of an invoice request (see `Invoices`). */
    const checkInvoice = (event: Event.NostrEvent): Effect.Effect<Option.Option<Invoices.InvoiceRequest>> =>
      Effect.gen(function* () {
        const decoded = yield* openContent(event, Messages.InvoiceRequestContent)
        if (Option.isNone(decoded))
          return yield* dropped("invoice request", event, "not for us or not an invoice request")
        const content = decoded.value
        if (content.expiresAt < (yield* nowSeconds)) return yield* dropped("invoice request", event, "expired")
        if (content.amount <= 0) return yield* dropped("invoice request", event, "amount 0")
        const amountMsat = yield* Effect.either(
          Currency.toMsat(content.amount, content.currency, content.currentExchangeRate)
        )
        if (Either.isLeft(amountMsat)) return yield* dropped("invoice request", event, amountMsat.left.message)
        if (amountMsat.right <= 0) return yield* dropped("invoice request", event, "amount below 1 msat")
        return Option.some<Invoices.InvoiceRequest>({
          eventId: event.id,
          requester: event.pubkey,
          requestId: content.requestId,
          amount: content.amount,
          currency: content.currency,
          exchangeRate: content.currentExchangeRate,
          amountMsat: amountMsat.right,
          expiresAt: content.expiresAt,
          description: content.description,
          refundInvoice: content.refundInvoice,
          content,
          event
        })
      })

    const subscribeInvoiceRequests = subscribeChecked(Kinds.InvoiceRequest, checkInvoice)

    const respondInvoice: Service["respondInvoice"] = (request, answer) =>
      answerOnce(
        Kinds.InvoiceResponse,
        request.eventId,
        request.expiresAt,
        Effect.gen(function* () {
          if (Option.isNone(wallet)) {
            return yield* new UserWalletFailed({ op: "make_invoice", reason: "NoWallet", detail: "no wallet" })
          }
          const invoice = yield* wallet.value
            .makeInvoice({
              amountMsat: request.amountMsat,
              description: answer.description ?? Option.getOrElse(request.description, () => ""),
              ...(answer.expirySecs === undefined ? {} : { expirySecs: answer.expirySecs })
            })
            .pipe(
              Effect.mapError(
                (error) =>
                  new UserWalletFailed({ op: "make_invoice", reason: "Wallet", detail: error.message, cause: error })
              )
            )
          const content: Messages.InvoiceResponse = {
            request: { inner: request.content, mainKey: request.requester, recipient: request.requester },
            invoice: invoice.bolt11,
            paymentHash: Option.some(invoice.paymentHash)
          }
          const text = yield* Messages.encodeContent(Messages.InvoiceResponse, content).pipe(
            Effect.mapError(sendFailed(Kinds.InvoiceResponse))
          )
          const sent = yield* reply(Kinds.InvoiceResponse, content, text, request.requester, request.requester)
          return { ...sent, invoice } satisfies InvoiceSent
        })
      ).pipe(Effect.withSpan("User.respondInvoice", { attributes: { kind: Kinds.InvoiceResponse } }))

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

    const decidePaymentKind =
      <E>(policies: Policies<E>) =>
      (incoming: PaymentKindRequest): Effect.Effect<void> => {
        if (incoming._tag === "Recurring") {
          const request = incoming.request
          const policy = policies.recurring
          if (policy === undefined) return Effect.void
          return policy(request).pipe(
            Effect.flatMap((decision) =>
              decision._tag === "Ignore" ? Effect.void : respondRecurring(request, decision)
            ),
            logUnanswered("subscription request", request.eventId, request.serviceKey)
          )
        }
        const request = incoming.request
        // a billed period is never shown to anyone: the subscription's checks decide (§9.3)
        if (Option.isSome(request.subscriptionId)) {
          return respondPayment(request, Payments.approve).pipe(
            logUnanswered("billed payment request", request.eventId, request.serviceKey)
          )
        }
        const policy = policies.payment
        if (policy === undefined) return Effect.void
        return policy(request).pipe(
          Effect.flatMap((decision) => (decision._tag === "Ignore" ? Effect.void : respondPayment(request, decision))),
          logUnanswered("payment request", request.eventId, request.serviceKey)
        )
      }

    const decideInvoice =
      <E>(policy: Invoices.InvoicePolicy<E>) =>
      (request: Invoices.InvoiceRequest): Effect.Effect<void> =>
        policy(request).pipe(
          Effect.flatMap((decision) => (decision._tag === "Ignore" ? Effect.void : respondInvoice(request, decision))),
          logUnanswered("invoice request", request.eventId, request.requester)
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
        if (policies.payment !== undefined || policies.recurring !== undefined) {
          const requests = yield* subscribePaymentKinds
          yield* requests.pipe(
            Stream.mapEffect(decidePaymentKind(policies), { concurrency, unordered: true }),
            Stream.runDrain,
            Effect.forkScoped
          )
          const closes = yield* subscribeCloseNotices
          yield* closes.pipe(Stream.runDrain, Effect.forkScoped)
        }
        if (policies.invoice !== undefined) {
          const requests = yield* subscribeInvoiceRequests
          yield* requests.pipe(
            Stream.mapEffect(decideInvoice(policies.invoice), { concurrency, unordered: true }),
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
      wallet,
      subscribePaymentRequests,
      paymentRequests: Stream.unwrapScoped(subscribePaymentRequests),
      respondPayment,
      subscribeRecurringRequests,
      recurringRequests: Stream.unwrapScoped(subscribeRecurringRequests),
      respondRecurring,
      subscribeInvoiceRequests,
      invoiceRequests: Stream.unwrapScoped(subscribeInvoiceRequests),
      respondInvoice,
      subscribeCloseNotices,
      closeNotices: Stream.unwrapScoped(subscribeCloseNotices),
      subscriptions: Effect.sync(() => [...subscriptions.values()]),
      closeSubscription,
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
 * The user side over the `Signer`, `RelayPool` and `Jwt` in context, paying with the `Wallet` in context (e.g.
 * `SimulatedLightning.layer("alice")` or `Wallet.layerNwc(…)`).
 * @category layers
 */
export const layerWithWallet = (
  options: Omit<Options, "wallet"> = {}
): Layer.Layer<User, UserKeyMismatch, Signer.Signer | RelayPool.RelayPool | Jwt.Jwt | Wallet.Wallet> =>
  Layer.effect(
    User,
    Effect.flatMap(Wallet.Wallet, (wallet) => make({ ...options, wallet }))
  )

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
