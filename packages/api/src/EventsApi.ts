/**
 * The `events` group: a stream's events (rest-api.md §4.2), polled as JSON (`after` exclusive) or followed live as
 * Server-Sent Events when `Accept` contains `text/event-stream` (differences.md §g). Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
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

/** @category groups */
export class EventsApi extends HttpApiGroup.make("events").add(
  HttpApiEndpoint.get("poll", "/events/:stream_id")
    .setPath(Schema.Struct({ stream_id: Schema.String }))
    .setUrlParams(Schema.Struct({ after: Schema.optional(Inputs.NonNegativeIntFromString) }))
    .addSuccess(Envelope.Success(StreamEvents))
    .addSuccess(HttpApiSchema.Text({ contentType: "text/event-stream; charset=utf-8" }))
    .middleware(Authorization)
    .annotate(
      OpenApi.Description,
      "Events with index > `after` (all when absent), ascending. With `Accept: text/event-stream`: SSE, one " +
        "message per event (`id` = index, `data` = the event JSON), resuming after `Last-Event-ID`, then " +
        "`event: end` once the stream is finished. 404 when the stream was never created."
    )
) {}
