/**
 * Recurring payments (rest-api.md §3 `POST /payments/recurring`, `/payments/recurring/close`, §4.1 the fixed
 * `recurring-payment-close` stream; protocol.md §5.4, §5.6, §5.7, §9, §12; differences.md §d, §f).
 *
 * - `request`: a 28005 to the user; the first matching 28006 becomes the stream's `recurring_payment_response`
 *   (`error` `"timeout"` at `expires_at`). A confirmed one is stored as a subscription (the wallet's
 *   `subscription_id`, the authorised amount, currency and recurrence, status `active`, next due =
 *   `first_payment_due`). The pending request is an operation (`recurring_payment`), resumed after a restart
 *   without re-sending.
 * - Billing (protocol.md §9.3: the service initiates every period): a worker looks at the active subscriptions
 *   every `billingInterval`. A due one gets a single payment request carrying its `subscription_id` (a
 *   `single_payment` stream through `Payments`, fiat priced at that moment). The stream id is reserved in the
 *   subscription *before* the request is made, so a restart never bills a period twice: a reserved stream that
 *   exists is followed to its end, one that was never created is created then. When it ends in `paid` the payment
 *   is counted and the next due date is `next_occurrence(paid time + 1 s)`, so a period missed while the daemon was
 *   down is billed once, not once per missed tick. An unpaid period is retried after `retryDelay`; after
 *   `maxFailures` consecutive unpaid periods the service closes the subscription. `max_payments` and `until` end
 *   it (status `completed`).
 * - Every billed period appears on the fixed `recurring-payment-billing` stream (our addition, so a merchant can
 *   poll or follow one stream for all periods): a `payment_status_update` with status `requested` (`main_key`,
 *   `amount`, `currency`) when it is billed, then one with the period's final status and `exchange_rate` once the
 *   biller sees it end; both carry `subscription_id` and `stream_id` (the period's `single_payment` stream, whose
 *   own events carry `subscription_id` too). Each is written once: the `requested` before the request is sent (a
 *   restart that finds the period reserved but never sent looks for it on the stream before writing it), the
 *   outcome after the subscription notes that it is being written (a restart that finds that note looks for it),
 *   and the period is then counted and released in one write.
 *   A period still running when its subscription is closed is noted at the close (a `recurring_billing_outcome`
 *   operation) and its outcome written when it ends.
 * - With several instances on one PostgreSQL database, only the holder of the `recurring_biller` operation's lease
 *   bills (taken over by another instance when a crashed holder's lease expires). A close may land on any instance:
 *   it is a write to the subscription, which the biller's writes never turn back from `closed` (`keepStatus`).
 * - Close from the service (`close`): a 28007 `by_service: true` to the user's keys; billing stops.
 * - Close from the user: every 28007 addressed to us becomes a `closed_recurring_payment` event on the fixed stream
 *   (`recipient` = the signing key, `main_key` = the subscriber's main key when the signer is one of its subkeys),
 *   once per relay event; billing of that subscription stops.
 *
 * @since 0.1.0
 */
import { recurringPaymentBillingStreamId } from "@portal/api/EventsApi"
import * as Conversation from "@portal/nostr/Conversation"
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import type { Amount, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Primitives from "@portal/protocol/Primitives"
import type * as Model from "@portal/store/Model"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as Conversing from "./Conversing.js"
import * as Payments from "./Payments.js"
import * as Rates from "./Rates.js"
import * as Streams from "./Streams.js"

/** @category models */
export interface RequestInput {
  readonly mainKey: PublicKeyHex
  readonly subkeys: ReadonlyArray<PublicKeyHex>
  readonly description: Option.Option<string>
  readonly amount: Amount
  readonly currency: Currency.Currency
  readonly authToken: Option.Option<string>
  readonly calendar: Calendar.Calendar
  readonly firstPaymentDue: UnixSeconds
  readonly until: Option.Option<UnixSeconds>
  readonly maxPayments: Option.Option<number>
  readonly expiresAt: UnixSeconds
}

/** @category models */
export interface Service {
  /** Stores and sends a recurring payment request; returns the stream id. */
  readonly request: (
    input: RequestInput
  ) => Effect.Effect<
    string,
    Payments.InvalidPaymentInput | Rates.RateUnsupported | Rates.RateUnavailable | StoreFailure
  >
  /** Tells the user the service closed the subscription; billing stops. */
  readonly close: (input: {
    readonly mainKey: PublicKeyHex
    readonly subkeys: ReadonlyArray<PublicKeyHex>
    readonly subscriptionId: string
  }) => Effect.Effect<void, CloseFailed | StoreFailure>
}

/**
 * The close notice could not be sent.
 * @category errors
 */
export class CloseFailed extends Schema.TaggedError<CloseFailed>()("CloseFailed", { detail: Schema.String }) {
  override get message() {
    return `Failed to close recurring payment: ${this.detail}`
  }
}

/** @category tags */
export class Recurring extends Context.Tag("@portal/server/Recurring")<Recurring, Service>() {}

/** @category options */
export interface Options {
  /**
   * The longest the biller sleeps between looks at the subscriptions (default 60 s, as the reference demo). It wakes
   * earlier when a period falls due, when a subscription is confirmed, and every `pendingPoll` while a billed period
   * is waiting for its outcome, so short calendars are billed on time.
   */
  readonly billingInterval?: Duration.DurationInput | undefined
  /** How often a billed period still waiting for its outcome is looked at (default 1 s). */
  readonly pendingPoll?: Duration.DurationInput | undefined
  /** Wait before billing an unpaid period again (default 1 hour). */
  readonly retryDelay?: Duration.DurationInput | undefined
  /** Consecutive unpaid periods after which the service closes the subscription (default 3, as the demo). */
  readonly maxFailures?: number | undefined
}

const requestKind = "recurring_payment"
/** The shortest sleep of the biller between two looks. */
const minimumWait = Duration.millis(200)
/** The singleton operation whose lease makes one instance the biller. */
const billerKind = "recurring_biller"
/** A billed period whose subscription was closed before its outcome reached the billing stream (id: its stream). */
const outcomeKind = "recurring_billing_outcome"
const OutcomePayload = Schema.Struct({ subscriptionId: Schema.String })
const decodeOutcomePayload = Schema.decodeUnknownOption(OutcomePayload)

/** What the store keeps of a subscription besides its columns. */
const SubscriptionData = Schema.Struct({
  subkeys: Schema.Array(Primitives.PublicKeyHex),
  description: Schema.NullOr(Schema.String),
  authToken: Schema.NullOr(Schema.String),
  /** The billing stream reserved for the current period. */
  pending: Schema.NullOr(Schema.String),
  failures: Schema.Int,
  /** The period whose outcome is being written to the billing stream (absent in data stored by older versions). */
  reporting: Schema.optional(Schema.NullOr(Schema.String))
})
type SubscriptionData = typeof SubscriptionData.Type
const decodeData = Schema.decodeUnknownOption(SubscriptionData)
const decodeRecurrence = Schema.decodeUnknownOption(Messages.RecurrenceInfo)
const encodeRecurrence = Schema.encode(Messages.RecurrenceInfo)
const encodeRecurringStatus = Schema.encode(Messages.RecurringPaymentStatus)
const decodeCurrency = Schema.decodeUnknownOption(Currency.Currency)
const decodeAmount = Schema.decodeUnknownOption(Primitives.Amount)
const encodeCurrency = Schema.encodeSync(Currency.Currency)

const Payload = Schema.Struct({ ...Conversing.Outgoing.fields, description: Schema.NullOr(Schema.String) })
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Payload)

/** The `status.status` of a `payment_status_update`. */
const statusOf = (event: Streams.WireEvent): unknown => {
  const status = event["status"]
  return typeof status === "object" && status !== null ? Reflect.get(status, "status") : undefined
}

/** A finished period's outcome as the billing stream records it: its last status and the rate its request carried. */
const outcomeOf = (events: ReadonlyArray<Streams.WireEvent>): Record<string, unknown> => {
  const last = events.filter((event) => event.type === "payment_status_update").at(-1)
  return last === undefined
    ? { status: { status: "error", reason: "no payment status" }, exchange_rate: null }
    : { status: last["status"], exchange_rate: last["exchange_rate"] ?? null }
}

/**
 * Builds the service, resumes pending requests, starts the close listener and the billing worker.
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const payments = yield* Payments.Payments
    const billingInterval = Duration.decode(options.billingInterval ?? "60 seconds")
    const pendingPoll = Duration.decode(options.pendingPoll ?? "1 second")
    const retryDelay = Duration.decode(options.retryDelay ?? "1 hour")
    const maxFailures = options.maxFailures ?? 3
    const billing = yield* Effect.makeSemaphore(1)
    // a confirmed subscription wakes the biller (its first period may be due before the next look)
    const wakeups = yield* Queue.sliding<void>(1)

    // ---- the request -------------------------------------------------------------------------------------------
    /** A confirmed subscription is stored (and wakes the biller) before the response event. */
    const answered = (payload: Payload, reply: Conversation.Reply<Messages.RecurringPaymentResponseContent>) =>
      Effect.gen(function* () {
        const status = reply.message.status
        if (status._tag === "Confirmed") {
          yield* store.putSubscription({
            id: status.subscriptionId,
            mainKey: payload.mainKey,
            amount: status.authorizedAmount,
            currency: encodeCurrency(status.authorizedCurrency),
            recurrence: yield* encodeRecurrence(status.authorizedRecurrence).pipe(Effect.orDie),
            status: "active",
            paymentsMade: 0,
            nextDue: DateTime.unsafeMake(status.authorizedRecurrence.firstPaymentDue * 1000),
            data: {
              subkeys: [...new Set([...payload.subkeys, ...(reply.author === payload.mainKey ? [] : [reply.author])])],
              description: payload.description,
              authToken: null,
              pending: null,
              failures: 0
            } satisfies SubscriptionData
          })
          yield* wakeups.offer(undefined)
        }
        const encoded = yield* encodeRecurringStatus(status).pipe(Effect.orDie)
        return {
          type: "recurring_payment_response",
          data: { status: { request_id: reply.message.requestId, status: encoded } }
        } satisfies Model.NewEvent
      })

    const requests = yield* Conversing.singleReply({
      store,
      streams,
      conversations,
      ownership: yield* Conversing.Ownership,
      kind: requestKind,
      decode: decodePayload,
      replyKinds: [28006],
      reply: Messages.RecurringPaymentResponseContent,
      matches: (payload, reply) => reply.requestId === payload.requestId,
      answer: answered,
      failure: "Failed to request recurring payment",
      span: "Recurring.run"
    })

    const request: Service["request"] = (input) =>
      Effect.gen(function* () {
        const nowMillis = DateTime.toEpochMillis(yield* DateTime.now)
        if (input.expiresAt * 1000 <= nowMillis) {
          return yield* new Payments.InvalidPaymentInput({
            field: "payment_request.expires_at",
            detail: "must be in the future"
          })
        }
        const { rate } = yield* payments.price(input.amount, input.currency)
        const requestId = randomUUID()
        const content = yield* Messages.encodeContent(Messages.RecurringPaymentRequest, {
          _tag: "Recurring" as const,
          amount: input.amount,
          currency: input.currency,
          recurrence: {
            calendar: Messages.NormalizedCalendar.make(Calendar.format(input.calendar)),
            firstPaymentDue: input.firstPaymentDue,
            until: input.until,
            maxPayments: input.maxPayments
          },
          currentExchangeRate: rate,
          expiresAt: input.expiresAt,
          authToken: input.authToken,
          description: input.description,
          requestId
        }).pipe(
          Effect.mapError((e) => new Payments.InvalidPaymentInput({ field: "payment_request", detail: e.message }))
        )
        const payload: Payload = {
          mainKey: input.mainKey,
          subkeys: input.subkeys.filter((key) => key !== input.mainKey),
          kind: 28005,
          content,
          requestId,
          published: false,
          description: Option.getOrNull(input.description)
        }
        return yield* requests.start(payload, DateTime.unsafeMake(Math.min(input.expiresAt, 8_000_000_000_000) * 1000))
      }).pipe(Effect.withSpan("Recurring.request"))

    // ---- closing -------------------------------------------------------------------------------------------------
    const setStatus = (subscription: Model.Subscription, status: string) =>
      store.putSubscription({
        id: subscription.id,
        mainKey: subscription.mainKey,
        amount: subscription.amount,
        currency: subscription.currency,
        recurrence: subscription.recurrence,
        // the stored count is kept: the biller may be counting a period on another instance
        status,
        data: subscription.data
      })

    /** Closes a subscription; a period still running is noted so that its outcome still reaches the billing stream. */
    const closeSubscription = (subscription: Model.Subscription) =>
      Effect.gen(function* () {
        const pending = Option.flatMap(decodeData(subscription.data), (data) => Option.fromNullable(data.pending))
        if (Option.isSome(pending)) {
          yield* store.insertOperation({
            kind: outcomeKind,
            id: pending.value,
            payload: { subscriptionId: subscription.id } satisfies typeof OutcomePayload.Type
          })
        }
        yield* setStatus(subscription, "closed")
      })

    const close: Service["close"] = (input) =>
      Effect.gen(function* () {
        const content = yield* Messages.encodeContent(Messages.CloseRecurringPaymentContent, {
          subscriptionId: input.subscriptionId,
          reason: Option.none(),
          byService: true
        }).pipe(Effect.mapError((e) => new CloseFailed({ detail: e.message })))
        yield* billing.withPermits(1)(
          Effect.gen(function* () {
            const existing = yield* store.getSubscription(input.subscriptionId)
            if (Option.isSome(existing) && existing.value.mainKey === input.mainKey) {
              yield* closeSubscription(existing.value)
            }
          })
        )
        yield* conversations
          .send({
            kind: 28007,
            content,
            recipients: [input.mainKey, ...input.subkeys.filter((key) => key !== input.mainKey)]
          })
          .pipe(Effect.mapError((e) => new CloseFailed({ detail: e.message })))
      }).pipe(Effect.withSpan("Recurring.close"))

    const onUserClose = (incoming: Conversation.Incoming<Messages.CloseRecurringPaymentContent>) =>
      Effect.gen(function* () {
        const first = yield* store.markSeen("relay-event", incoming.event.id, Duration.hours(1))
        if (!first) return
        const existing = yield* store.getSubscription(incoming.message.subscriptionId)
        const subscriber = Option.filter(existing, (s) => {
          const data = decodeData(s.data)
          return s.mainKey === incoming.sender || (Option.isSome(data) && data.value.subkeys.includes(incoming.sender))
        })
        const mainKey = Option.match(subscriber, { onNone: () => incoming.sender, onSome: (s) => s.mainKey })
        if (Option.isSome(subscriber) && subscriber.value.status === "active") {
          yield* billing.withPermits(1)(closeSubscription(subscriber.value))
        }
        yield* Conversing.appendQuietly(
          streams,
          Streams.recurringPaymentCloseStreamId,
          {
            type: "closed_recurring_payment",
            data: {
              reason: Option.getOrNull(incoming.message.reason),
              subscription_id: incoming.message.subscriptionId,
              recipient: incoming.sender,
              main_key: mainKey
            }
          },
          "never"
        )
      }).pipe(Effect.catchAllCause((cause) => Effect.logError("recurring close dispatch failed", cause)))

    yield* conversations
      .listen({ kinds: [28007], message: Messages.CloseRecurringPaymentContent })
      .pipe(Stream.runForEach(onUserClose), Effect.forkScoped)

    // ---- billing ---------------------------------------------------------------------------------------------------
    // the fixed stream of billed periods: (re)opened at every startup, its indexes continue
    yield* store.reopenStream(recurringPaymentBillingStreamId, "recurring_payment_billing")

    /** Whether the billing stream already has the period's `requested` (or outcome) event: restart paths only. */
    const onBillingStream = (streamId: string, which: "requested" | "outcome") =>
      streams
        .poll(recurringPaymentBillingStreamId)
        .pipe(
          Effect.map((events) =>
            events.some(
              (event) =>
                event["stream_id"] === streamId && (statusOf(event) === "requested") === (which === "requested")
            )
          )
        )
    const appendBilling = (subscriptionId: string, streamId: string, data: Record<string, unknown>) =>
      Conversing.appendQuietly(
        streams,
        recurringPaymentBillingStreamId,
        {
          type: "payment_status_update",
          data: { exchange_rate: null, ...data, subscription_id: subscriptionId, stream_id: streamId }
        },
        "never"
      )
    const appendRequested = (subscription: Model.Subscription, streamId: string) =>
      appendBilling(subscription.id, streamId, {
        status: {
          status: "requested",
          main_key: subscription.mainKey,
          amount: subscription.amount,
          currency: subscription.currency
        }
      })

    const update = (
      subscription: Model.Subscription,
      patch: Partial<Model.SubscriptionInput>,
      data: SubscriptionData
    ) =>
      store.putSubscription({
        id: subscription.id,
        mainKey: subscription.mainKey,
        amount: subscription.amount,
        currency: subscription.currency,
        recurrence: subscription.recurrence,
        status: subscription.status,
        paymentsMade: subscription.paymentsMade,
        nextDue: Option.getOrUndefined(subscription.nextDue),
        ...patch,
        data,
        // a close committed meanwhile, by any instance, stays closed
        keepStatus: ["closed"]
      })

    /** Sends the period's request on the reserved stream id. */
    const send = (subscription: Model.Subscription, data: SubscriptionData, streamId: string) =>
      Effect.gen(function* () {
        const currency = decodeCurrency(subscription.currency)
        const amount = decodeAmount(subscription.amount)
        if (Option.isNone(currency) || Option.isNone(amount)) {
          return yield* Effect.logError(`subscription ${subscription.id}: unreadable amount or currency`)
        }
        yield* payments
          .single({
            mainKey: subscription.mainKey,
            subkeys: data.subkeys,
            description: data.description ?? "Subscription payment",
            amount: amount.value,
            currency: currency.value,
            authToken: Option.fromNullable(data.authToken),
            subscriptionId: Option.some(subscription.id),
            requestId: Option.none(),
            streamId
          })
          .pipe(
            Effect.catchAll((e) =>
              Effect.gen(function* () {
                // not sent (no wallet, rate source down…): the stream records why, and the period counts as unpaid
                yield* Effect.logWarning(`subscription ${subscription.id}: ${e.message}`)
                // created and ended in one transaction: never an open stream without an operation
                yield* store.createStream(streamId, "single_payment").pipe(
                  Effect.catchTag("StreamAlreadyExists", () => Effect.void),
                  Effect.zipRight(
                    Conversing.appendQuietly(
                      streams,
                      streamId,
                      Payments.statusEvent({ subscriptionId: subscription.id }, { status: "error", reason: e.message })
                    )
                  ),
                  store.transaction
                )
              })
            )
          )
      })

    const billOne = (subscription: Model.Subscription, now: DateTime.Utc) =>
      Effect.gen(function* () {
        const data = decodeData(subscription.data)
        const recurrence = decodeRecurrence(subscription.recurrence)
        if (Option.isNone(data) || Option.isNone(recurrence)) {
          yield* Effect.logError(`subscription ${subscription.id}: unreadable state, closed`)
          return yield* setStatus(subscription, "closed")
        }
        const pending = data.value.pending
        if (pending === null) {
          if (Option.isNone(subscription.nextDue) || DateTime.greaterThan(subscription.nextDue.value, now)) return
          // reserve the stream id before sending: a restart then finds it instead of billing again
          const streamId = randomUUID()
          const reserved = { ...data.value, pending: streamId }
          yield* update(subscription, {}, reserved)
          yield* appendRequested(subscription, streamId)
          return yield* send(subscription, reserved, streamId)
        }
        const info = yield* Effect.option(streams.info(pending))
        if (Option.isNone(info)) {
          // reserved, never sent: the `requested` may or may not have been written before the stop
          if (!(yield* onBillingStream(pending, "requested"))) yield* appendRequested(subscription, pending)
          return yield* send(subscription, data.value, pending)
        }
        if (!info.value.finished) return
        const events = yield* streams.poll(pending)
        const paid = events.some((event) => statusOf(event) === "paid")
        // the period's outcome on the billing stream: its last status and the rate its request carried
        const outcome = outcomeOf(events)
        if (data.value.reporting === pending) {
          if (!(yield* onBillingStream(pending, "outcome"))) yield* appendBilling(subscription.id, pending, outcome)
        } else {
          yield* update(subscription, {}, { ...data.value, reporting: pending })
          yield* appendBilling(subscription.id, pending, outcome)
        }
        yield* Effect.logInfo(`subscription ${subscription.id}: period ${paid ? "paid" : "unpaid"}`).pipe(
          Effect.annotateLogs({ streamId: pending, paymentsMade: subscription.paymentsMade + (paid ? 1 : 0) })
        )
        if (paid) {
          const paidAt = Math.floor(DateTime.toEpochMillis(now) / 1000)
          const calendar = yield* Calendar.parse(recurrence.value.calendar).pipe(Effect.option)
          const next = Option.flatMap(calendar, (c) => Calendar.nextOccurrence(c, paidAt + 1))
          const made = subscription.paymentsMade + 1
          const ended =
            Option.isNone(next) ||
            Option.exists(recurrence.value.maxPayments, (max) => made >= max) ||
            Option.exists(recurrence.value.until, (until) => Option.exists(next, (n) => n > until))
          // counted, next due date and the period released in one write: a stop cannot count it twice
          return yield* update(
            subscription,
            {
              paymentsMade: made,
              nextDue: ended
                ? undefined
                : Option.getOrUndefined(Option.map(next, (n) => DateTime.unsafeMake(n * 1000))),
              ...(ended ? { status: "completed" } : {})
            },
            { ...data.value, pending: null, failures: 0 }
          )
        }
        const failures = data.value.failures + 1
        if (failures >= maxFailures) {
          yield* update(subscription, { status: "closed" }, { ...data.value, pending: null, failures })
          return yield* close({
            mainKey: subscription.mainKey,
            subkeys: data.value.subkeys,
            subscriptionId: subscription.id
          }).pipe(Effect.catchTag("CloseFailed", (e) => Effect.logWarning(e.message)))
        }
        yield* update(
          subscription,
          { nextDue: DateTime.addDuration(now, retryDelay) },
          { ...data.value, pending: null, failures }
        )
      })

    /** A period of a closed subscription: its outcome is written once it ends (rare: looked up on the stream). */
    const closedPeriod = (streamId: string, payload: unknown) =>
      Effect.gen(function* () {
        const subscriptionId = decodeOutcomePayload(payload)
        if (Option.isNone(subscriptionId)) return yield* store.deleteOperation(outcomeKind, streamId)
        const subscription = yield* store.getSubscription(subscriptionId.value.subscriptionId)
        // still active (stopped between noting and closing): billing writes it as for any period
        if (Option.isSome(subscription) && subscription.value.status === "active") {
          const data = decodeData(subscription.value.data)
          if (Option.isSome(data) && data.value.pending === streamId) return
          return yield* store.deleteOperation(outcomeKind, streamId)
        }
        const info = yield* Effect.option(streams.info(streamId))
        if (Option.isSome(info) && !info.value.finished) return
        if (Option.isSome(info) && !(yield* onBillingStream(streamId, "outcome"))) {
          yield* appendBilling(subscriptionId.value.subscriptionId, streamId, outcomeOf(yield* streams.poll(streamId)))
        }
        yield* store.deleteOperation(outcomeKind, streamId)
      })

    // One biller among the instances sharing a database (differences.md §o): the holder of this operation's lease.
    const owner = randomUUID()
    const lease = Duration.sum(Duration.times(billingInterval, 3), Duration.seconds(5))
    yield* store.insertOperation({ kind: billerKind, id: "biller", payload: {} })
    yield* Effect.addFinalizer(() => store.releaseOperations(owner).pipe(Effect.ignore))

    const tick = Effect.gen(function* () {
      // SQLite is one daemon per file (an exclusive lock): no lease to wait for after a crash
      if (store.backend === "pg") {
        const claimed = yield* store.claimOperations({ owner, lease, kind: billerKind })
        if (!claimed.some((operation) => operation.id === "biller")) return
      }
      const now = yield* DateTime.now
      for (const subscription of yield* store.listSubscriptions({ status: "active" })) {
        yield* billing.withPermits(1)(
          // re-read under the lock: a close may have landed since the listing
          store
            .getSubscription(subscription.id)
            .pipe(
              Effect.flatMap((current) =>
                Option.isSome(current) && current.value.status === "active" ? billOne(current.value, now) : Effect.void
              )
            )
        )
      }
      for (const operation of yield* store.listOperations(outcomeKind)) {
        yield* billing.withPermits(1)(closedPeriod(operation.id, operation.payload))
      }
    }).pipe(Effect.catchAllCause((cause) => Effect.logError("recurring billing failed", cause)))

    // until the next look: the interval, or sooner when a period falls due or one is waiting for its outcome
    const nextWait = Effect.gen(function* () {
      const now = DateTime.toEpochMillis(yield* DateTime.now)
      let wait = billingInterval
      for (const subscription of yield* store.listSubscriptions({ status: "active" })) {
        const pending = Option.flatMap(decodeData(subscription.data), (data) => Option.fromNullable(data.pending))
        const until = Option.isSome(pending)
          ? pendingPoll
          : Option.match(subscription.nextDue, {
              onNone: () => billingInterval,
              onSome: (due) => Duration.millis(Math.max(0, DateTime.toEpochMillis(due) - now))
            })
        wait = Duration.min(wait, until)
      }
      // never a busy loop, whatever the store says
      return Duration.max(wait, minimumWait)
    }).pipe(Effect.orElseSucceed(() => billingInterval))

    yield* tick.pipe(
      Effect.zipRight(nextWait),
      Effect.flatMap((wait) => Effect.raceFirst(Effect.sleep(wait), wakeups.take)),
      Effect.forever,
      Effect.forkScoped
    )

    return Recurring.of({ request, close })
  })

/** @category layers */
export const layer = (
  options: Options = {}
): Layer.Layer<
  Recurring,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | Payments.Payments | Conversing.Ownership
> => Layer.scoped(Recurring, make(options))
