/**
 * The REST API's event streams (rest-api.md §4) over `@portal/store`: streams are created (stored before the 201 is
 * sent, §4.1), events appended with the next index and finished by the terminal mapping (§4.5), read back as the
 * wire's flat event objects (`{index, timestamp, type, …}`, timestamps RFC 3339 with 3 fractional digits and
 * `+00:00`, §4.2), and followed live (differences.md §g).
 *
 * @since 0.1.0
 */
import type * as Model from "@portal/store/Model"
import * as Store from "@portal/store/Store"
import type { StoreFailure, StreamFinished, StreamNotFound } from "@portal/store/StoreError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"

/**
 * A stream event as the wire carries it: flat, `type` plus its fields.
 * @category models
 */
export interface WireEvent {
  readonly index: number
  readonly timestamp: string
  readonly type: string
  readonly [field: string]: unknown
}

/**
 * The stream kinds (rest-api.md §4.1).
 * @category models
 */
export type StreamKind =
  | "key_handshake"
  | "single_payment"
  | "raw_payment"
  | "authenticate_key"
  | "recurring_payment"
  | "invoice_request"
  | "cashu_request"
  | "recurring_payment_close"

/**
 * The service.
 * @category models
 */
export interface Service {
  /** Creates an `in_flight` stream with a fresh UUID v4 id; it is stored when this succeeds. */
  readonly create: (kind: StreamKind) => Effect.Effect<string, StoreFailure>
  /**
   * Appends an event. The stream is finished as `terminalStatus` says, unless `finish` overrides it (a one-shot
   * handshake finishes at its `key_handshake`, a closed handshake as `completed`). Late events (the stream is
   * already finished) fail with `StreamFinished` and are not stored.
   */
  readonly append: (
    streamId: string,
    event: Model.NewEvent,
    options?: { readonly finish?: Model.FinishedStatus | "never" | undefined }
  ) => Effect.Effect<WireEvent, StreamNotFound | StreamFinished | StoreFailure>
  /** Events with index > `after` (all when omitted), ascending (`GET /events/{id}?after=`). */
  readonly poll: (
    streamId: string,
    after?: number
  ) => Effect.Effect<ReadonlyArray<WireEvent>, StreamNotFound | StoreFailure>
  /** Stored events after `after`, then live ones; ends after the last event of a finished stream. */
  readonly live: (streamId: string, after?: number) => Stream.Stream<WireEvent, StreamNotFound | StoreFailure>
  /** The stored stream. */
  readonly info: (streamId: string) => Effect.Effect<Model.StreamInfo, StreamNotFound | StoreFailure>
}

/** @category tags */
export class Streams extends Context.Tag("@portal/server/Streams")<Streams, Service>() {}

/**
 * The fixed stream that collects every `closed_recurring_payment`.
 * @category streams
 */
export const recurringPaymentCloseStreamId = "recurring-payment-close"

/**
 * The stored status an event leaves its stream in (rest-api.md §4.5): `undefined` when it is not terminal.
 * @category terminal mapping
 */
export const terminalStatus = (event: Model.NewEvent): Model.FinishedStatus | undefined => {
  switch (event.type) {
    case "error":
      return "failed"
    case "authenticate_key":
    case "invoice_response":
    case "cashu_response":
    case "recurring_payment_response":
      return "completed"
    case "payment_status_update": {
      const status = event.data["status"]
      const tag = typeof status === "object" && status !== null ? Reflect.get(status, "status") : undefined
      if (tag === "paid" || tag === "user_success") return "completed"
      if (tag === "timeout" || tag === "error" || tag === "user_failed" || tag === "user_rejected") return "failed"
      return undefined
    }
    default:
      return undefined
  }
}

/**
 * `2026-05-06T16:42:24.123+00:00`: RFC 3339 UTC, 3 fractional digits, `+00:00` offset (rest-api.md §4.2).
 * @category wire
 */
export const formatTimestamp = (timestamp: DateTime.Utc): string =>
  DateTime.formatIso(timestamp).replace(/Z$/, "+00:00")

/**
 * The wire form of a stored event.
 * @category wire
 */
export const toWire = (event: Model.StoredEvent): WireEvent => ({
  index: event.index,
  timestamp: formatTimestamp(event.timestamp),
  type: event.type,
  ...event.data
})

/**
 * Builds the service over the store. `webhook` queues a webhook delivery for every event in its transaction
 * (differences.md §h): set it when `webhook.url` is configured.
 * @category constructors
 */
export const make = (options: { readonly webhook?: boolean | undefined } = {}) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    // the fixed stream of closed subscriptions: (re)opened at every startup, its indexes continue (§4.1)
    yield* store.reopenStream(recurringPaymentCloseStreamId, "recurring_payment_close")
    const create = (kind: StreamKind) =>
      Effect.sync(() => randomUUID()).pipe(
        Effect.tap((id) => store.createStream(id, kind)),
        Effect.catchTag("StreamAlreadyExists", (e) => Effect.die(e)),
        Effect.withSpan("Streams.create", { attributes: { kind } })
      )
    const append: Service["append"] = (streamId, event, appendOptions) => {
      const finish = appendOptions?.finish === "never" ? undefined : (appendOptions?.finish ?? terminalStatus(event))
      return store
        .append(streamId, event, { finish, webhook: options.webhook === true })
        .pipe(Effect.map(toWire), Effect.withSpan("Streams.append", { attributes: { streamId, type: event.type } }))
    }
    return Streams.of({
      create,
      append,
      poll: (streamId, after) => Effect.map(store.readEvents(streamId, after), (events) => events.map(toWire)),
      live: (streamId, after) => Stream.map(store.events(streamId, after), toWire),
      info: store.getStream
    })
  })

/** @category layers */
export const layer = (
  options: { readonly webhook?: boolean | undefined } = {}
): Layer.Layer<Streams, StoreFailure, Store.Store> => Layer.effect(Streams, make(options))
