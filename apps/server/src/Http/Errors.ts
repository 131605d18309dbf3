/**
 * Where every failure becomes a response (differences.md §i): an API-level middleware around the router.
 *
 * - wire errors (`@portal/api/ApiError`) → their status and `{"success":false,"error":"…"}`; a 401 adds
 *   `WWW-Authenticate: Bearer`;
 * - schema failures of the path, query or body → 400 naming the first failing field
 *   (`payment_request.amount: expected an integer greater than 0, got 0`);
 * - no route → 404 `Not found: GET /nope`, or 405 with `Allow` when the path exists with other methods (400 when
 *   it exists with this method but its percent-encoding is malformed);
 * - the request timeout (`server.request_timeout_ms`, SSE exempt) → 504;
 * - anything else is a genuine fault → 500 `Internal error (ref …); see the server log`, logged with the same ref.
 *
 * CORS (off unless `server.cors_origins` is set, differences.md §j) wraps it all, so error responses carry it too.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { HttpSettings } from "./HttpSettings.js"

/**
 * The error response of a wire error.
 * @category responses
 */
export const respond = (error: ApiError.ApiError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(ApiError.body(error), {
    status: ApiError.statusOf[error._tag],
    headers: error._tag === "Unauthorized" ? { "www-authenticate": "Bearer" } : {}
  })

interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`),
    ""
  )

/**
 * The 400 message of a schema failure: the first failing field and what was expected. Messages that carry the
 * reference's own wording (`Invalid main key: …`) are kept as they are.
 * @category messages
 */
export const formatIssue = (issue: Issue): string => {
  const message =
    issue.message === "is missing"
      ? "is required"
      : issue.message.replace(
          /^Expected (.+), actual (.+)$/s,
          (_, expected: string, actual: string) =>
            `expected ${/^ReadonlyArray<.*>$/s.test(expected) ? "an array" : expected}, got ${actual}`
        )
  if (message.startsWith("Invalid ")) return message
  const path = formatPath(issue.path)
  return path === "" ? message : `${path}: ${message}`
}

interface Route {
  readonly method: string
  readonly pattern: RegExp
}

const toPattern = (path: string): RegExp =>
  new RegExp(
    "^" +
      path
        .split("/")
        .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/") +
      "/?$"
  )

const routes: ReadonlyArray<Route> = (() => {
  const out: Array<Route> = []
  HttpApi.reflect(PortalApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => out.push({ method: endpoint.method, pattern: toPattern(endpoint.path) })
  })
  return out
})()

const pathOf = (url: string): string => {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/**
 * 404 or 405 for a request no route matched.
 * @category responses
 */
export const noRoute = (method: string, url: string): HttpServerResponse.HttpServerResponse => {
  const path = pathOf(url)
  const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))]
  if (allowed.length === 0) return respond(new ApiError.NotFound({ error: `Not found: ${method} ${path}` }))
  // The method is served here, yet the router refused the URL: a malformed percent-encoding such as `%ZZ`.
  if (allowed.includes(method)) return respond(new ApiError.BadRequest({ error: `Malformed URL path: ${path}` }))
  return HttpServerResponse.setHeader(
    respond(
      new ApiError.MethodNotAllowed({
        error: `Method not allowed: ${method} ${path} (allowed: ${allowed.join(", ")})`
      })
    ),
    "allow",
    allowed.join(", ")
  )
}

const isDecodeError = (
  u: unknown
): u is { readonly _tag: "HttpApiDecodeError"; readonly issues: ReadonlyArray<Issue> } =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "HttpApiDecodeError" && "issues" in u

const isRouteNotFound = (u: unknown): boolean =>
  typeof u === "object" && u !== null && "_tag" in u && u._tag === "RouteNotFound"

const internalError = (request: HttpServerRequest.HttpServerRequest, cause: Cause.Cause<unknown>) => {
  const ref = randomBytes(4).toString("hex")
  return Effect.logError(`Internal error (ref ${ref}) on ${request.method} ${pathOf(request.url)}`, cause).pipe(
    Effect.as(respond(new ApiError.InternalError({ error: `Internal error (ref ${ref}); see the server log` })))
  )
}

const toResponse = (request: HttpServerRequest.HttpServerRequest, cause: Cause.Cause<unknown>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (ApiError.isApiError(error)) return Effect.succeed(respond(error))
    if (isDecodeError(error)) {
      const first = error.issues[0]
      const message = first === undefined ? "Invalid request" : formatIssue(first)
      return Effect.succeed(respond(new ApiError.BadRequest({ error: message })))
    }
    if (isRouteNotFound(error)) return Effect.succeed(noRoute(request.method, request.url))
  }
  return internalError(request, cause)
}

/**
 * Runs `effect` in a child fiber and fails with `onTimeout` if it has not finished after `ms`, interrupting it.
 * Cheaper per request than `Effect.timeoutFail` (one fiber and a plain timer instead of a race of two fibers).
 */
const withDeadline = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  ms: number,
  onTimeout: ApiError.GatewayTimeout
): Effect.Effect<A, E | ApiError.GatewayTimeout, R> =>
  Effect.flatMap(Effect.fork(effect), (fiber) =>
    Effect.async<A, E | ApiError.GatewayTimeout>((resume) => {
      let done = false
      const timer = setTimeout(() => {
        if (done) return
        done = true
        fiber.unsafeInterruptAsFork(fiber.id())
        resume(Effect.fail(onTimeout))
      }, ms)
      fiber.addObserver((exit) => {
        clearTimeout(timer)
        if (done) return
        done = true
        resume(exit)
      })
      return Effect.sync(() => {
        clearTimeout(timer)
        done = true
        fiber.unsafeInterruptAsFork(fiber.id())
      })
    })
  )

const isEventStream = (request: HttpServerRequest.HttpServerRequest): boolean =>
  (request.headers["accept"] ?? "").includes("text/event-stream")

/**
 * Wraps the router: the request timeout, then every failure to a JSON response, then CORS when configured.
 * @category middleware
 */
export const middleware = (settings: {
  readonly requestTimeoutMs: number
  readonly corsOrigins: ReadonlyArray<string>
}): (<E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<never, R | HttpServerRequest.HttpServerRequest>) => {
  const cors =
    settings.corsOrigins.length === 0
      ? <E, R>(app: HttpApp.Default<E, R>) => app
      : HttpMiddleware.cors({
          allowedOrigins: settings.corsOrigins.includes("*") ? [] : settings.corsOrigins,
          allowedMethods: ["GET", "POST", "DELETE"],
          allowedHeaders: ["Authorization", "Content-Type", "Last-Event-ID"],
          maxAge: 600,
          credentials: false
        })
  const timeout = new ApiError.GatewayTimeout({ error: `Request timed out after ${settings.requestTimeoutMs} ms` })
  return (app) =>
    cors(
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        (isEventStream(request) ? app : withDeadline(app, settings.requestTimeoutMs, timeout)).pipe(
          Effect.catchAllCause((cause) => toResponse(request, cause))
        )
      )
    )
}

/**
 * The middleware as a layer of the API.
 * @category layers
 */
export const ErrorsLayer = HttpApiBuilder.middleware(Effect.map(HttpSettings, middleware))
