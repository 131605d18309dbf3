import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, layer } from "@effect/vitest"
import * as Errors from "@portal/server/Http/Errors"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import { send, sendJson } from "./HttpServerTest.js"

// A stand-in for the API router with a genuine bug and a slow handler, behind the real error edge.
const app = HttpRouter.empty.pipe(
  HttpRouter.get("/boom", Effect.die(new Error("kaboom: secret internals"))),
  HttpRouter.get("/slow", Effect.as(Effect.sleep("5 seconds"), HttpServerResponse.text("late"))),
  HttpRouter.get(
    "/events/slow",
    Effect.as(Effect.sleep("300 millis"), HttpServerResponse.text("data: 1\n\n", { contentType: "text/event-stream" }))
  )
)

const logged: Array<string> = []
const CapturingLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ message }) => {
    logged.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
  })
)

const FaultyServer = HttpServer.serve(Errors.middleware({ requestTimeoutMs: 100, corsOrigins: [] })(app)).pipe(
  Layer.provide(CapturingLogger),
  Layer.provideMerge(NodeHttpServer.layerTest)
)

describe("faults at the HTTP edge", () => {
  layer(FaultyServer, { excludeTestServices: true })((it) => {
    it.effect("a defect is a 500 with a reference that is also in the server log, and no internals", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/boom"))
        assert.strictEqual(r.status, 500)
        const error = (r.json as { error: string }).error
        const ref = /^Internal error \(ref ([0-9a-f]{8})\); see the server log$/.exec(error)?.[1]
        assert.isDefined(ref, error)
        assert.deepStrictEqual(r.json, { success: false, error })
        assert.isTrue(
          logged.some((line) => line.includes(`ref ${ref}`)),
          logged.join("\n")
        )
      })
    )

    it.effect("a request slower than server.request_timeout_ms is a 504", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/slow"))
        assert.strictEqual(r.status, 504)
        assert.deepStrictEqual(r.json, { success: false, error: "Request timed out after 100 ms" })
      })
    )

    it.effect("an event stream (Accept: text/event-stream) is exempt from the timeout", () =>
      Effect.gen(function* () {
        const r = yield* send(
          HttpClientRequest.get("/events/slow").pipe(HttpClientRequest.setHeader("accept", "text/event-stream"))
        )
        assert.strictEqual(r.status, 200)
        assert.strictEqual(r.text, "data: 1\n\n")
      })
    )
  })
})
