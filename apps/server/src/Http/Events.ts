/**
 * Handler of `GET /events/{stream_id}` (rest-api.md §4.2, differences.md §g): the JSON polling response (`after`
 * exclusive), or, when `Accept` contains `text/event-stream`, Server-Sent Events: `retry: 3000`, the stored events
 * after `Last-Event-ID` (else `after`), then live ones (`id: <index>`, `data: <event JSON>`), `: ping` every 15 s, and
 * `event: end` once the stream is finished. Unknown streams are 404 `Stream '<id>' not found` in both forms.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import { StreamEvent } from "@portal/api/Events"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Streams from "../Streams.js"

const encoder = new TextEncoder()
const decodeEvents = Schema.decodeUnknown(Schema.Array(StreamEvent))
const notFound = (id: string) => new ApiError.NotFound({ error: `Stream '${id}' not found` })

/**
 * The SSE body of a stream from `after` on.
 * @category sse
 */
export const eventStream = (
  streamId: string,
  events: Stream.Stream<Streams.WireEvent, unknown>,
  pingEvery: "15 seconds" | number = "15 seconds"
): Stream.Stream<Uint8Array> => {
  const messages = events.pipe(
    Stream.map((event) => `id: ${event.index}\ndata: ${JSON.stringify(event)}\n\n`),
    Stream.concat(Stream.succeed(`event: end\ndata: ${JSON.stringify({ stream_id: streamId })}\n\n`)),
    Stream.catchAllCause(() => Stream.empty)
  )
  const pings = Stream.tick(pingEvery).pipe(
    Stream.drop(1),
    Stream.map(() => ": ping\n\n")
  )
  return Stream.succeed("retry: 3000\n\n").pipe(
    Stream.concat(Stream.merge(messages, pings, { haltStrategy: "left" })),
    Stream.map((text) => encoder.encode(text))
  )
}

/** @category layers */
export const EventsHandlers = HttpApiBuilder.group(PortalApi, "events", (handlers) =>
  Effect.gen(function* () {
    const streams = yield* Streams.Streams
    return handlers.handle("poll", ({ path, request, urlParams }) =>
      Effect.gen(function* () {
        const id = path.stream_id
        const accept = request.headers["accept"] ?? ""
        if (accept.includes("text/event-stream")) {
          const lastEventId = request.headers["last-event-id"]
          let after = urlParams.after
          if (lastEventId !== undefined) {
            if (!/^[0-9]+$/.test(lastEventId.trim()) || !Number.isSafeInteger(Number(lastEventId.trim()))) {
              return yield* new ApiError.BadRequest({ error: "Last-Event-ID: expected a non-negative integer" })
            }
            after = Number(lastEventId.trim())
          }
          yield* streams.info(id)
          return HttpServerResponse.stream(eventStream(id, streams.live(id, after)), {
            contentType: "text/event-stream; charset=utf-8",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        }
        const events = yield* streams.poll(id, urlParams.after).pipe(
          // our own appends: an event that does not decode is a bug
          Effect.flatMap((events) => Effect.orDie(decodeEvents(events)))
        )
        return { success: true as const, data: { stream_id: id, events } }
      }).pipe(
        Effect.catchTag("StreamNotFound", () => Effect.fail(notFound(path.stream_id))),
        Effect.catchTag("StoreFailure", (e) => Effect.die(e))
      )
    )
  })
)
