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
import * as Schema from "effect/Schema"

/** @category groups */
export class DocsApi extends HttpApiGroup.make("docs")
  .add(
    HttpApiEndpoint.get("openapi", "/openapi.json")
      .addSuccess(
        Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ identifier: "OpenApiDocument" })
      )
      .annotate(OpenApi.Description, "This document: OpenAPI 3.1, generated from the daemon's API definition.")
  )
  .add(
    HttpApiEndpoint.get("docs", "/docs")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/html; charset=utf-8" }))
      .annotate(OpenApi.Description, "Interactive API reference (HTML, works offline).")
  ) {}
