/**
 * The `system` group: liveness and version (rest-api.md §3, `GET /health`, `GET /version`). Public routes.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as Envelope from "./Envelope.js"

/**
 * The daemon's version and the commit it was built from (8 hex chars, `-dirty` when the tree was dirty, or
 * `unknown`).
 * @category models
 */
export class VersionInfo extends Schema.Class<VersionInfo>("VersionInfo")({
  version: Schema.String,
  git_commit: Schema.String
}) {}

/** @category groups */
export class SystemApi extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain; charset=utf-8" }))
      .annotate(OpenApi.Description, "Liveness: answers `OK` (text/plain) once startup has finished.")
  )
  .add(
    HttpApiEndpoint.get("version", "/version")
      .addSuccess(Envelope.Success(VersionInfo))
      .annotate(OpenApi.Description, "The daemon version and git commit.")
  ) {}
