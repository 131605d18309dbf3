/**
 * The body checks of JSON routes (differences.md §i), run after authentication and before the body is decoded:
 * content type (415), size (413), JSON syntax and a JSON object (400). `OptionalJsonBody` (only
 * `POST /key-handshake`) lets an empty body through, which then decodes as `{}` (differences.md §p).
 *
 * A body over the limit is refused from `Content-Length` without reading it; a chunked body is read up to the limit.
 *
 * @since 0.1.0
 */
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "@portal/api/ApiError"
import { JsonBody, OptionalJsonBody } from "@portal/api/Middleware"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { HttpSettings } from "./HttpSettings.js"

const isJsonContentType = (value: string | undefined): boolean =>
  value !== undefined && value.split(";")[0]!.trim().toLowerCase() === "application/json"

const tooLarge = (limit: number) => new PayloadTooLarge({ error: `Request body exceeds ${limit} bytes` })

const hasNoBody = (headers: Readonly<Record<string, string | undefined>>): boolean =>
  headers["transfer-encoding"] === undefined &&
  (headers["content-length"] === undefined || headers["content-length"].trim() === "0")

const makeCheck = (allowEmpty: boolean) =>
  Effect.map(HttpSettings, (settings) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => check(request, settings.maxBodyBytes, allowEmpty))
  )

const check = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number,
  allowEmpty: boolean
): Effect.Effect<void, UnsupportedMediaType | PayloadTooLarge | BadRequest> =>
  Effect.gen(function* () {
    const headers = request.headers
    if (allowEmpty && hasNoBody(headers)) return
    if (!isJsonContentType(headers["content-type"])) {
      return yield* new UnsupportedMediaType({ error: "Content-Type must be application/json" })
    }
    const declared = Number(headers["content-length"] ?? "0")
    if (declared > limit) return yield* tooLarge(limit)
    const text = yield* request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(limit)),
      Effect.mapError((error): PayloadTooLarge | BadRequest =>
        error.cause instanceof Error && error.cause.message === "maxBytes exceeded"
          ? tooLarge(limit)
          : new BadRequest({ error: "Could not read the request body" })
      )
    )
    if (text === "" && allowEmpty) return
    const parsed = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (cause) =>
        new BadRequest({ error: `Invalid JSON body: ${cause instanceof Error ? cause.message : String(cause)}` })
    })
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return yield* new BadRequest({ error: "Invalid JSON body: expected a JSON object" })
    }
  })

/** @category layers */
export const JsonBodyLayer: Layer.Layer<JsonBody, never, HttpSettings> = Layer.effect(JsonBody, makeCheck(false))

/** @category layers */
export const OptionalJsonBodyLayer: Layer.Layer<OptionalJsonBody, never, HttpSettings> = Layer.effect(
  OptionalJsonBody,
  makeCheck(true)
)
