/**
 * The `docs` group: the OpenAPI 3.1 document generated from this contract, and an interactive HTML reference that
 * renders it, served by the daemon itself with no CDN (differences.md §n). Public.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * An OpenAPI 3.1 document as `OpenApi.fromApi` builds it: checked to be an object with `openapi: "3.1.0"`, `info`
 * and `paths`; its inside is `@effect/platform`'s `OpenAPISpec` type, described as a plain object in the document.
 * @category schemas
 */
export const OpenApiDocument = Schema.declare(
  (u: unknown): u is OpenApi.OpenAPISpec =>
    Predicate.isRecord(u) &&
    u["openapi"] === "3.1.0" &&
    Predicate.isRecord(u["info"]) &&
    Predicate.isRecord(u["paths"]),
  { identifier: "OpenApiDocument", jsonSchema: { type: "object" } }
)

/** @category groups */
export class DocsApi extends HttpApiGroup.make("docs")
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json")
      .addSuccess(OpenApiDocument)
      .annotate(OpenApi.Description, "This document: OpenAPI 3.1, generated from the daemon's API definition.")
  )
  .add(
    HttpApiEndpoint.get("docs", "/docs")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/html; charset=utf-8" }))
      .annotate(OpenApi.Description, "Interactive API reference (HTML, works offline).")
  ) {}
