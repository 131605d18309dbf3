/**
 * The `events` group: a stream's events (rest-api.md §4.2), polled as JSON (`after` exclusive) or followed live as
 * Server-Sent Events when `Accept` contains `text/event-stream` (differences.md §g). Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as Envelope from "./Envelope.js"
import { StreamEvent } from "./Events.js"
import * as Inputs from "./Inputs.js"
import { Authorization } from "./Middleware.js"

/** @category models */
export const StreamEvents = Schema.Struct({
  stream_id: Schema.String,
  events: Schema.Array(StreamEvent)
}).annotations({ identifier: "StreamEvents" })

/**
 * The fixed stream that collects every subscription closed by a user.
 * @category streams
 */
export const recurringPaymentCloseStreamId = "recurring-payment-close"

/**
 * The fixed stream of billed subscription periods (our addition): per period a `payment_status_update` with status
 * `requested` when it is billed, then one with the period's final status once it ends, both with `stream_id` (the
 * period's own `single_payment` stream) and `subscription_id`.
 * @category streams
 */
export const recurringPaymentBillingStreamId = "recurring-payment-billing"

const eventStreamContent = {
  schema: {
    type: "string",
    description:
      "Server-Sent Events: `retry: 3000`, then per event `id: <index>` and `data: <event JSON>` (a StreamEvent), " +
      '`: ping` every 15 s, and `event: end` with `data: {"stream_id":…}` once the stream is finished.'
  }
}

// The SSE form shares the 200 response with the JSON form; HttpApi has one schema per status, so it is added here.
const withEventStream = (operation: Record<string, unknown>): Record<string, unknown> => {
  const responses = operation["responses"] as Record<string, { content?: Record<string, unknown> }> | undefined
  const ok = responses?.["200"]
  if (ok !== undefined) ok.content = { ...ok.content, "text/event-stream": eventStreamContent }
  return operation
}

/** @category groups */
export class EventsApi extends HttpApiGroup.make("events").add(
  HttpApiEndpoint.get("poll", "/events/:stream_id")
    .setPath(Schema.Struct({ stream_id: Schema.String }))
    .setUrlParams(Schema.Struct({ after: Schema.optional(Inputs.NonNegativeIntFromString) }))
    .addSuccess(Envelope.Success(StreamEvents))
    .middleware(Authorization)
    .annotate(OpenApi.Transform, withEventStream)
    .annotate(
      OpenApi.Description,
      "Events with index > `after` (all when absent), ascending. With `Accept: text/event-stream`: SSE, one " +
        "message per event (`id` = index, `data` = the event JSON), resuming after `Last-Event-ID`, then " +
        "`event: end` once the stream is finished. 404 when the stream was never created. Fixed streams that never " +
        "finish: `recurring-payment-close` (subscriptions closed by users) and `recurring-payment-billing` (each " +
        "billed subscription period: `requested`, then its outcome, with the period's `stream_id`)."
    )
) {}
