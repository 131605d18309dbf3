import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import { eventTypes } from "@portal/api/Events"
import { PortalApi } from "@portal/api/PortalApi"
import * as BuildInfo from "@portal/server/BuildInfo"
import * as Effect from "effect/Effect"
import { layer as serverLayer, sendJson } from "./HttpServerTest.js"

// rest-api.md §2.1 (the reference's 25 routes) and §2.2 (ours), as OpenAPI paths.
const referenceRoutes = [
  "get /health",
  "get /version",
  "get /well-known/nostr.json",
  "get /info",
  "post /key-handshake",
  "post /authenticate-key",
  "post /payments/single",
  "post /payments/raw",
  "post /payments/recurring",
  "post /payments/recurring/close",
  "get /profile/{main_key}",
  "post /invoices/request",
  "post /invoices/pay",
  "post /jwt/issue",
  "post /jwt/verify",
  "post /cashu/request",
  "post /cashu/send-direct",
  "post /cashu/mint",
  "post /cashu/burn",
  "post /relays",
  "delete /relays",
  "post /calendar/next-occurrence",
  "get /nip05/{nip05}",
  "get /wallet/info",
  "get /events/{stream_id}"
]
const addedRoutes = [
  "delete /key-handshake/{stream_id}",
  "get /relays",
  "get /auth/nip98",
  "get /.well-known/nostr.json",
  "get /openapi.json",
  "get /docs"
]
const publicRoutes = new Set([
  "get /health",
  "get /version",
  "get /well-known/nostr.json",
  "get /.well-known/nostr.json",
  "get /auth/nip98",
  "get /openapi.json",
  "get /docs"
])
const asyncRoutes = [
  "post /key-handshake",
  "post /authenticate-key",
  "post /payments/single",
  "post /payments/raw",
  "post /payments/recurring",
  "post /invoices/request",
  "post /cashu/request"
]

type Operation = {
  readonly security?: ReadonlyArray<Record<string, ReadonlyArray<string>>>
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema: unknown }> }>
}
type Spec = {
  readonly openapi: string
  readonly info: { readonly version: string; readonly title: string }
  readonly paths: Record<string, Record<string, Operation>>
  readonly components: {
    readonly schemas: Record<string, unknown>
    readonly securitySchemes: Record<string, unknown>
  }
}

const operations = (spec: Spec) =>
  Object.entries(spec.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, operation]) => ({ route: `${method} ${path}`, operation }))
  )

const refsIn = (value: unknown): Array<string> => {
  if (Array.isArray(value)) return value.flatMap(refsIn)
  if (typeof value !== "object" || value === null) return []
  return Object.entries(value).flatMap(([key, v]) => (key === "$ref" && typeof v === "string" ? [v] : refsIn(v)))
}

describe("GET /openapi.json", () => {
  layer(serverLayer(), { excludeTestServices: true })((it) => {
    const fetchSpec = Effect.map(sendJson(HttpClientRequest.get("/openapi.json")), (r) => {
      assert.strictEqual(r.status, 200)
      return r.json as Spec
    })

    it.effect("is OpenAPI 3.1 with the daemon version and lists every route, reference and ours", () =>
      Effect.gen(function* () {
        const spec = yield* fetchSpec
        assert.strictEqual(spec.openapi, "3.1.0")
        assert.strictEqual(spec.info.version, BuildInfo.version)
        const listed = operations(spec).map((o) => o.route)
        assert.sameMembers(listed, [...referenceRoutes, ...addedRoutes])
        // and every route the server is built from
        HttpApi.reflect(PortalApi, {
          onGroup: () => {},
          onEndpoint: ({ endpoint }) =>
            assert.include(listed, `${endpoint.method.toLowerCase()} ${endpoint.path.replace(/:(\w+)/g, "{$1}")}`)
        })
      })
    )

    it.effect("declares bearerAuth on authenticated routes only", () =>
      Effect.gen(function* () {
        const spec = yield* fetchSpec
        assert.deepStrictEqual(spec.components.securitySchemes["bearerAuth"], { type: "http", scheme: "bearer" })
        for (const { operation, route } of operations(spec)) {
          const secured = (operation.security ?? []).some((s) => "bearerAuth" in s)
          assert.strictEqual(secured, !publicRoutes.has(route), route)
          if (secured) assert.property(operation.responses, "401", route)
        }
      })
    )

    it.effect("async routes answer 201; errors have the {success:false,error} body; every $ref resolves", () =>
      Effect.gen(function* () {
        const spec = yield* fetchSpec
        for (const { operation, route } of operations(spec)) {
          const success = asyncRoutes.includes(route) ? "201" : "200"
          assert.property(operation.responses, success, route)
          for (const status of ["400", "404", "500", "501"]) assert.property(operation.responses, status, route)
        }
        assert.deepStrictEqual(spec.components.schemas["NotFoundResponse"], {
          type: "object",
          required: ["success", "error"],
          properties: { success: { type: "boolean", enum: [false] }, error: { type: "string" } },
          additionalProperties: false,
          description: "Unknown route or resource."
        })
        assert.notProperty(spec.components.schemas, "HttpApiDecodeError")
        for (const ref of refsIn(spec)) {
          assert.property(spec.components.schemas, ref.replace("#/components/schemas/", ""), ref)
        }
      })
    )

    it.effect("describes the 8 stream event types as a union on type, and SSE on the events route", () =>
      Effect.gen(function* () {
        const spec = yield* fetchSpec
        const union = spec.components.schemas["StreamEvent"] as { anyOf: ReadonlyArray<{ $ref: string }> }
        const types = union.anyOf.map((member) => {
          const schema = spec.components.schemas[member.$ref.replace("#/components/schemas/", "")] as {
            properties: { type: { enum: ReadonlyArray<string> } }
          }
          return schema.properties.type.enum[0]
        })
        assert.sameMembers(types, [...eventTypes])
        assert.lengthOf(types, 8)
        const poll = spec.paths["/events/{stream_id}"]!["get"]!
        assert.property(poll.responses["200"]!.content, "text/event-stream")
        assert.property(poll.responses["200"]!.content, "application/json")
      })
    )
  })
})
