/**
 * Webhook delivery (rest-api.md §6, differences.md §h): a background worker that drains the store's durable
 * webhook outbox (rows queued in the same transaction as their event) to `webhook.url`.
 *
 * - Body: compact `{"stream_id","index","timestamp","type",…fields}`, built from the stored event, so it is
 *   byte-identical across retries; `Content-Type: application/json`.
 * - Headers: `X-Portal-Timestamp` (Unix seconds of this attempt) and `X-Portal-Delivery-Attempt` (1-based) always;
 *   with a non-empty `webhook.secret`, `X-Portal-Signature` = lowercase hex HMAC-SHA256(secret, raw body) (as the
 *   reference) and `X-Portal-Signature-V2` = HMAC-SHA256(secret, `<timestamp>.<raw body>`).
 * - Any 2xx is delivered; a non-2xx, a timeout (`webhook.timeout_ms`) or a connection error is retried after
 *   `min(2^(n−1) s, 15 min) × U(0.8, 1.2)`; an event older than `webhook.max_age_hours` is marked dead instead
 *   (logged at error level) and its stream's later events proceed.
 * - Order: the store hands out only each stream's lowest pending event, so N+1 waits for N; up to
 *   `webhook.concurrency` streams are delivered in parallel. At-least-once: a crash between a 2xx and the mark
 *   sends the event again.
 * - Shutdown: the worker stops claiming and lets in-flight attempts finish (each bounded by its timeout); rows not
 *   delivered stay queued for the next start (or another instance: claims are leases).
 *
 * The wire timestamp is `Streams.formatTimestamp`, as the polling routes print it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Model from "@portal/store/Model"
import * as Store from "@portal/store/Store"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import { createHmac, randomUUID } from "node:crypto"
import { formatTimestamp } from "./Streams.js"

/**
 * Worker settings (`webhook.*`).
 * @category models
 */
export interface Options {
  readonly url: string
  /** Signs when set and non-empty. */
  readonly secret: Option.Option<Redacted.Redacted<string>>
  readonly timeoutMs: number
  readonly maxAgeHours: number
  readonly concurrency: number
  /** How often an idle worker looks for newly queued rows; default 1 s. */
  readonly pollInterval?: Duration.DurationInput
}

/**
 * The exact bytes POSTed for a stored event.
 * @category wire
 */
export const body = (event: Model.StoredEvent): string =>
  JSON.stringify({
    stream_id: event.streamId,
    index: event.index,
    timestamp: formatTimestamp(event.timestamp),
    type: event.type,
    ...event.data
  })

/**
 * Lowercase hex HMAC-SHA256 with the UTF-8 secret as key.
 * @category wire
 */
export const sign = (secret: string, message: string): string =>
  createHmac("sha256", Buffer.from(secret, "utf8")).update(message, "utf8").digest("hex")

/**
 * The headers of one attempt.
 * @category wire
 */
export const headers = (options: {
  readonly body: string
  readonly secret: Option.Option<Redacted.Redacted<string>>
  readonly timestamp: number
  readonly attempt: number
}): Record<string, string> => {
  const base: Record<string, string> = {
    "x-portal-timestamp": String(options.timestamp),
    "x-portal-delivery-attempt": String(options.attempt)
  }
  const secret = Option.getOrElse(Option.map(options.secret, Redacted.value), () => "")
  if (secret === "") return base
  return {
    ...base,
    "x-portal-signature": sign(secret, options.body),
    "x-portal-signature-v2": sign(secret, `${options.timestamp}.${options.body}`)
  }
}

/**
 * Delay before the attempt after failed attempt `n` (1-based), without jitter: `min(2^(n−1) s, 15 min)`.
 * @category delivery
 */
export const backoff = (attempt: number): Duration.Duration =>
  Duration.seconds(Math.min(2 ** Math.max(0, attempt - 1), 15 * 60))

const MAX_IDLE = Duration.seconds(1)

/**
 * Starts the worker in the layer's scope; closing the scope stops it gracefully.
 * @category constructors
 */
export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const client = yield* HttpClient.HttpClient
    const owner = `webhooks-${randomUUID()}`
    const timeout = Duration.millis(options.timeoutMs)
    const lease = Duration.sum(timeout, Duration.seconds(30))
    const maxAge = Duration.hours(options.maxAgeHours)
    const idle = options.pollInterval === undefined ? MAX_IDLE : Duration.decode(options.pollInterval)

    const post = (payload: string, attemptHeaders: Record<string, string>) =>
      client
        .execute(
          HttpClientRequest.post(options.url).pipe(
            HttpClientRequest.setHeaders(attemptHeaders),
            HttpClientRequest.bodyText(payload, "application/json")
          )
        )
        .pipe(
          Effect.flatMap((response) =>
            // drain the body so the connection can be reused; its content does not matter
            Effect.as(Effect.ignore(response.text), response.status)
          ),
          Effect.scoped,
          Effect.timeoutFail({ duration: timeout, onTimeout: () => `timed out after ${options.timeoutMs} ms` }),
          Effect.catchTag("RequestError", (e) => Effect.fail(`request failed: ${e.message}`)),
          Effect.catchTag("ResponseError", (e) => Effect.fail(`response failed: ${e.message}`)),
          Effect.flatMap((status) => (status >= 200 && status < 300 ? Effect.void : Effect.fail(`status ${status}`)))
        )

    const deliver = (delivery: Model.WebhookDelivery) =>
      Effect.gen(function* () {
        const payload = body(delivery.event)
        const attempt = delivery.attempts + 1
        const now = yield* DateTime.now
        const outcome = yield* Effect.either(
          post(
            payload,
            headers({ body: payload, secret: options.secret, timestamp: Math.floor(now.epochMillis / 1000), attempt })
          )
        )
        if (outcome._tag === "Right") return yield* store.markWebhookDelivered(delivery.id)
        const error = outcome.left
        const after = yield* DateTime.now
        const age = Duration.millis(after.epochMillis - delivery.createdAt.epochMillis)
        if (Duration.greaterThan(age, maxAge)) {
          yield* Effect.logError(
            `webhook: giving up on ${delivery.event.streamId}#${delivery.event.index} after ${attempt} attempts: ${error}`
          )
          return yield* store.markWebhookDead(delivery.id, error)
        }
        const jitter = yield* Random.nextRange(0.8, 1.2)
        const wait = Duration.millis(Math.round(Duration.toMillis(backoff(attempt)) * jitter))
        yield* Effect.logWarning(
          `webhook: attempt ${attempt} for ${delivery.event.streamId}#${delivery.event.index} failed (${error}); ` +
            `retrying in ${Duration.format(wait)}`
        )
        return yield* store.markWebhookFailed(delivery.id, { error, nextAttemptAt: DateTime.addDuration(after, wait) })
      })

    // One round: claim what is due and deliver it. Returns how long to wait before the next round.
    const round = Effect.gen(function* () {
      const claimed = yield* store.claimWebhooks({ owner, limit: options.concurrency, lease })
      if (claimed.length > 0) {
        yield* Effect.forEach(claimed, deliver, { concurrency: options.concurrency, discard: true })
        return Duration.zero
      }
      const due = yield* store.nextWebhookDue
      const now = yield* Clock.currentTimeMillis
      return Option.match(due, {
        onNone: () => idle,
        onSome: (at) =>
          Duration.clamp(Duration.millis(at.epochMillis - now), { minimum: Duration.millis(10), maximum: idle })
      })
    }).pipe(
      Effect.catchAll((error) => Effect.as(Effect.logError(`webhook: outbox unavailable: ${error.message}`), idle))
    )

    const stop = yield* Deferred.make<void>()
    const loop = Effect.gen(function* () {
      while (!(yield* Deferred.isDone(stop))) {
        const wait = yield* round
        if (Duration.greaterThan(wait, Duration.zero)) {
          yield* Effect.raceFirst(Effect.sleep(wait), Deferred.await(stop))
        }
      }
    })
    const fiber = yield* Effect.forkScoped(loop)
    // Runs before the fork's own interruption (finalizers run in reverse): in-flight attempts finish, bounded by
    // their timeout, then the loop sees `stop`.
    yield* Effect.addFinalizer(() =>
      Deferred.succeed(stop, undefined).pipe(
        Effect.zipRight(Effect.timeout(Fiber.await(fiber), Duration.sum(timeout, Duration.seconds(5)))),
        Effect.ignore
      )
    )
  })

/**
 * The delivery worker; nothing to deliver without a URL (then nothing is queued either).
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never, never, Store.Store | HttpClient.HttpClient> =>
  Layer.scopedDiscard(make(options))
