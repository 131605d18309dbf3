/**
 * The records the store keeps, as decoded domain values: streams and their events (the REST API's async
 * operations, rest-api.md §4), operation state for restart recovery (differences.md §f), recurring
 * subscriptions, relays added at runtime (§l), webhook deliveries (§h).
 *
 * Times are `DateTime.Utc` with millisecond precision (stored as Unix milliseconds). JSON values (event data,
 * operation payloads, …) come back exactly as they were stored.
 *
 * @since 0.1.0
 */
import { PublicKeyHex } from "@portal/protocol/Primitives"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * Stored stream status (rest-api.md §4.5): `in_flight` until the last event the operation can emit, then
 * `completed` (it ended in success) or `failed`. "Finished" means not `in_flight`.
 * @category streams
 */
export const StreamStatus = Schema.Literal("in_flight", "completed", "failed")
/** @category streams */
export type StreamStatus = typeof StreamStatus.Type

/** @category streams */
export const FinishedStatus = Schema.Literal("completed", "failed")
/** @category streams */
export type FinishedStatus = typeof FinishedStatus.Type

/**
 * A JSON object: the fields an event carries besides index, timestamp and type (flattened into the event on
 * the wire).
 * @category streams
 */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
/** @category streams */
export type JsonObject = typeof JsonObject.Type

const Count = Schema.Int.pipe(Schema.nonNegative())

/**
 * A stream of events: one async operation of the REST API.
 * @category streams
 */
export class StreamInfo extends Schema.Class<StreamInfo>("@portal/store/StreamInfo")({
  id: Schema.String,
  /** The operation kind (`key_handshake`, `single_payment`, …). */
  kind: Schema.String,
  status: StreamStatus,
  /** How many events it has; the next event gets this index. */
  eventCount: Count,
  createdAt: Schema.DateTimeUtcFromSelf,
  updatedAt: Schema.DateTimeUtcFromSelf,
  finishedAt: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf)
}) {
  /** Not `in_flight`: no event will be appended any more. */
  get finished(): boolean {
    return this.status !== "in_flight"
  }
}

/**
 * An event to append.
 * @category streams
 */
export interface NewEvent {
  readonly type: string
  readonly data: JsonObject
}

/**
 * A stored event. `index` starts at 0 per stream, without gaps; `timestamp` is when it was stored.
 * @category streams
 */
export class StoredEvent extends Schema.Class<StoredEvent>("@portal/store/StoredEvent")({
  streamId: Schema.String,
  index: Count,
  timestamp: Schema.DateTimeUtcFromSelf,
  type: Schema.String,
  data: JsonObject
}) {}

/**
 * Options of `append`.
 * @category streams
 */
export interface AppendOptions {
  /** Also finish the stream with this status, in the same transaction as the event. */
  readonly finish?: FinishedStatus | undefined
  /** Also queue a webhook delivery for the event, in the same transaction (differences.md §h). */
  readonly webhook?: boolean | undefined
}

/**
 * Generic state of an in-flight operation, keyed by `kind` and `id`: a pending handshake or static token, an auth
 * challenge, a payment, … `payload` is the caller's JSON; `owner` and `leaseUntil` say which instance runs it
 * (differences.md §o).
 * @category operations
 */
export class Operation extends Schema.Class<Operation>("@portal/store/Operation")({
  kind: Schema.String,
  id: Schema.String,
  streamId: Schema.OptionFromSelf(Schema.String),
  payload: Schema.Unknown,
  deadline: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf),
  owner: Schema.OptionFromSelf(Schema.String),
  leaseUntil: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf),
  createdAt: Schema.DateTimeUtcFromSelf,
  updatedAt: Schema.DateTimeUtcFromSelf
}) {}

/**
 * What `putOperation` / `insertOperation` write. Deleting the stream deletes its operations.
 * @category operations
 */
export interface OperationInput {
  readonly kind: string
  readonly id: string
  readonly streamId?: string | undefined
  /** Any JSON value. */
  readonly payload: unknown
  readonly deadline?: DateTime.Utc | undefined
  /**
   * A new operation is created already leased to `owner` for `duration` from now (differences.md §o: no other
   * instance can claim it in between). Replacing an existing one keeps its stored owner and lease.
   */
  readonly lease?: { readonly owner: string; readonly duration: Duration.DurationInput } | undefined
}

/**
 * A recurring subscription (a confirmed `recurring_payment`). `amount` is in the smallest unit of `currency`
 * (msat for `Millisats`, cents for fiat); `recurrence` and `data` are the caller's JSON.
 * @category subscriptions
 */
export class Subscription extends Schema.Class<Subscription>("@portal/store/Subscription")({
  id: Schema.String,
  mainKey: PublicKeyHex,
  amount: Count,
  currency: Schema.String,
  recurrence: Schema.Unknown,
  status: Schema.String,
  paymentsMade: Count,
  nextDue: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf),
  data: Schema.Unknown,
  createdAt: Schema.DateTimeUtcFromSelf,
  updatedAt: Schema.DateTimeUtcFromSelf
}) {}

/**
 * What `putSubscription` writes (an upsert by `id`).
 * @category subscriptions
 */
export interface SubscriptionInput {
  readonly id: string
  readonly mainKey: PublicKeyHex
  readonly amount: number
  readonly currency: string
  readonly recurrence: unknown
  readonly status: string
  readonly paymentsMade?: number | undefined
  readonly nextDue?: DateTime.Utc | undefined
  readonly data?: unknown
  /**
   * Replacing a subscription whose stored status is one of these keeps that status (the other fields are written):
   * a close committed by another instance wins over a concurrent billing write (differences.md §o).
   */
  readonly keepStatus?: ReadonlyArray<string> | undefined
}

/**
 * A relay change made at runtime (differences.md §l): `added` through the API, or `removed` (a marker that keeps
 * a configured relay out until it is added again). `position` orders added relays by when they were added.
 * @category relays
 */
export class RelayEntry extends Schema.Class<RelayEntry>("@portal/store/RelayEntry")({
  url: Schema.String,
  state: Schema.Literal("added", "removed"),
  position: Count,
  updatedAt: Schema.DateTimeUtcFromSelf
}) {}

/**
 * One event's webhook delivery (differences.md §h).
 * @category webhooks
 */
export class WebhookDelivery extends Schema.Class<WebhookDelivery>("@portal/store/WebhookDelivery")({
  id: Count,
  event: StoredEvent,
  status: Schema.Literal("pending", "delivered", "dead"),
  /** Attempts made so far (the next one is `attempts + 1`). */
  attempts: Count,
  nextAttemptAt: Schema.DateTimeUtcFromSelf,
  lastError: Schema.OptionFromSelf(Schema.String),
  createdAt: Schema.DateTimeUtcFromSelf
}) {}
