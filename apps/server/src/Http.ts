/**
 * The HTTP application: `PortalApi` with every group's handlers, the contract's middleware (bearer auth, JSON body
 * checks) and the error edge (`Http/Errors.ts`), served by whichever `HttpServer` is provided (the real Node server in
 * `main.ts`, a random-port test server in tests).
 *
 * Needs: `BuildInfoTag`, `ServerIdentity`, `ApiToken` (Auth.ts), `HttpSettings`, and `Jwt`, `Sessions`,
 * `SessionSettings` (`Http/Session.ts` `layer`),
 * and `Streams`, `Handshakes`, `KeyAuth`, `Relays` (`Services.ts` `layer`).
 *
 * `layerNodeServer` is the daemon's Node server under it: a `GET /health` fast path and graceful shutdown
 * (differences.md §j).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import { PortalApi } from "@portal/api/PortalApi"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as Etag from "@effect/platform/Etag"
import type * as HttpPlatform from "@effect/platform/HttpPlatform"
import type { ServeError } from "@effect/platform/HttpServerError"
import type * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"
import { AuthorizationLayer } from "./Auth.js"
import { JsonBodyLayer, OptionalJsonBodyLayer } from "./Http/Body.js"
import { CalendarHandlers } from "./Http/Calendar.js"
import { CashuHandlers } from "./Http/Cashu.js"
import { DocsHandlers } from "./Http/Docs.js"
import { EventsHandlers } from "./Http/Events.js"
import { ErrorsLayer } from "./Http/Errors.js"
import { IdentityHandlers } from "./Http/Identity.js"
import { InvoicesHandlers } from "./Http/Invoices.js"
import { KeysHandlers } from "./Http/Keys.js"
import { PaymentsHandlers } from "./Http/Payments.js"
import { JwtHandlers } from "./Http/Jwt.js"
import { RelaysHandlers } from "./Http/Relays.js"
import { SessionHandlers } from "./Http/Session.js"
import { SystemHandlers } from "./Http/System.js"
import { WalletHandlers } from "./Http/Wallet.js"

/** The implementations of the contract's middleware tags. */
export const MiddlewareLayer = Layer.mergeAll(AuthorizationLayer, JsonBodyLayer, OptionalJsonBodyLayer)

/** Every group's handlers. */
export const HandlersLayer = Layer.mergeAll(
  SystemHandlers,
  DocsHandlers,
  IdentityHandlers,
  CalendarHandlers,
  KeysHandlers,
  RelaysHandlers,
  EventsHandlers,
  JwtHandlers,
  SessionHandlers,
  PaymentsHandlers,
  InvoicesHandlers,
  WalletHandlers,
  CashuHandlers
).pipe(Layer.provide(MiddlewareLayer))

/** Every group of the API with its handlers. */
export const ApiLayer = HttpApiBuilder.api(PortalApi).pipe(Layer.provide(HandlersLayer))

/**
 * The served application; needs an `HttpServer` and the services the handlers use.
 *
 * The platform's per-request server span is off: nothing exports spans (no tracer is configured), and building it
 * (URL parsing, header redaction, span attributes) was about a sixth of the CPU time of a routed request.
 */
export const HttpLayer = HttpApiBuilder.serve().pipe(
  HttpMiddleware.withTracerDisabledWhen(() => true),
  HttpServer.withLogAddress,
  Layer.provide(ErrorsLayer),
  Layer.provide(ApiLayer)
)

/** @category options */
export interface NodeServerOptions {
  readonly host: string
  readonly port: number
  /** `server.shutdown_grace_ms`: how long in-flight requests may run on after the shutdown begins. */
  readonly shutdownGraceMs: number
}

/** SSE is chosen by the request's `Accept` (`Http/Events.ts`); those responses never finish on their own. */
const wantsEventStream = (request: Http.IncomingMessage): boolean =>
  (request.headers.accept ?? "").includes("text/event-stream")

/**
 * The Node server for `HttpLayer` (differences.md §j), with the platform services `NodeHttpServer.layer` also gives
 * (`HttpPlatform`, `Etag.Generator`, `NodeContext`).
 *
 * - **Before the routes are attached** (startup) and once shutdown began, requests get a JSON 503, never a hang;
 *   `/health` therefore answers `OK` only when startup has finished.
 * - **`GET /health` fast path:** answered by Node before the Effect router (a liveness probe needs no auth, decoding
 *   or envelope; the bytes are those of the route). Requests carrying `Origin` take the router, so CORS applies.
 * - **Graceful shutdown** when the scope closes (SIGTERM/SIGINT in `main.ts`): stop listening and close idle
 *   keep-alive connections; let in-flight requests finish for up to `shutdownGraceMs` (a request arriving on an open
 *   connection meanwhile gets a JSON 503 with `Connection: close`); then close SSE connections (clients resume with
 *   `Last-Event-ID`) and whatever is still open. The services (relays, operations, database) are released after it,
 *   so in-flight requests keep them until they finish.
 *
 * Dispatch is by overriding `emit("request")` on the server instance: the Effect handler stays the only
 * `request` listener, the fast path and the refusal during shutdown answer before it without a second listener.
 * @category layers
 */
export const layerNodeServer = (
  options: NodeServerOptions
): Layer.Layer<
  HttpServer.HttpServer | HttpPlatform.HttpPlatform | Etag.Generator | NodeContext.NodeContext,
  ServeError
> =>
  Layer.scoped(
    HttpServer.HttpServer,
    Effect.gen(function* () {
      // in-flight responses, each with whether it is an SSE stream
      const inFlight = new Map<Http.ServerResponse, boolean>()
      const onlyStreamsLeft = () => [...inFlight.values()].every((stream) => stream)
      let draining = false
      let served = false
      let drained: (() => void) | undefined
      const server = Http.createServer({ keepAliveTimeout: 5_000 })
      const emit = server.emit.bind(server) as (event: string, ...args: Array<unknown>) => boolean
      server.emit = ((event: string, ...args: Array<unknown>): boolean => {
        if (event !== "request") return emit(event, ...args)
        const request = args[0] as Http.IncomingMessage
        const response = args[1] as Http.ServerResponse
        // no handler yet (still starting) or any more (shutting down): a clear 503, never a hanging request
        const routed = server.listenerCount("request") > 0
        served ||= routed
        if (draining || !routed) {
          const body = JSON.stringify({
            success: false,
            error: draining || served ? "Server is shutting down" : "Server is starting"
          })
          response.writeHead(503, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            connection: "close"
          })
          response.end(body)
          return true
        }
        if (request.method === "GET" && request.url === "/health" && request.headers.origin === undefined) {
          response.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": 2 })
          response.end("OK")
          return true
        }
        inFlight.set(response, wantsEventStream(request))
        response.once("close", () => {
          inFlight.delete(response)
          if (drained !== undefined && onlyStreamsLeft()) {
            const done = drained
            drained = undefined
            done()
          }
        })
        return emit(event, ...args)
      }) as typeof server.emit
      const drain = Effect.gen(function* () {
        // stop accepting now; `close` also drops idle keep-alive connections (Node ≥ 19), its callback waits for the
        // rest
        const closed = yield* Effect.sync(() => {
          draining = true
          const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))
          server.closeIdleConnections()
          return closed
        })
        yield* Effect.logInfo(`Shutting down: finishing ${inFlight.size} in-flight request(s)`)
        // in-flight requests other than SSE streams finish within the grace
        // (finalizers are uninterruptible: the wait is made interruptible so that the timeout can end it)
        yield* Effect.async<void>((resume) => {
          drained = () => resume(Effect.void)
          if (onlyStreamsLeft()) resume(Effect.void)
        }).pipe(Effect.interruptible, Effect.timeout(options.shutdownGraceMs), Effect.ignore)
        // then SSE connections (clients resume with Last-Event-ID) and whatever overran the grace
        for (const response of inFlight.keys()) response.destroy()
        server.closeAllConnections()
        yield* Effect.promise(() => closed)
        yield* Effect.logInfo("HTTP server closed")
      })
      const http = yield* NodeHttpServer.make(() => server, { host: options.host, port: options.port })
      // added after `make`'s own finalizer, so it runs first (that one only closes a server still listening)
      yield* Effect.addFinalizer(() => drain)
      return http
    })
  ).pipe(Layer.merge(NodeHttpServer.layerContext))
