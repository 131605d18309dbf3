/**
 * The `system` group: public routes (rest-api.md §3, differences.md §m): liveness, version and the NIP-05
 * documents. They ignore any `Authorization` header.
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

/**
 * A NIP-05 document: `names` maps a name to a hex key; `relays` (left out when empty) maps the key to relay URLs.
 * @category models
 */
export const NostrJson = Schema.Struct({
  names: Schema.Record({ key: Schema.String, value: Schema.String }),
  relays: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }), {
    exact: true
  })
}).annotations({ identifier: "NostrJson" })
/** @category models */
export type NostrJson = typeof NostrJson.Type

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
  )
  .add(
    HttpApiEndpoint.get("wellKnown", "/well-known/nostr.json")
      .addSuccess(Envelope.Success(NostrJson))
      .annotate(
        OpenApi.Description,
        "The reference's NIP-05 document, inside the envelope (so not a valid NIP-05 document): the profile name " +
          "(or `_`) mapped to the signing key. `?name=` is ignored."
      )
  )
  .add(
    HttpApiEndpoint.get("nostrJson", "/.well-known/nostr.json")
      .setUrlParams(Schema.Struct({ name: Schema.optional(Schema.String) }))
      .addSuccess(NostrJson)
      .annotate(
        OpenApi.Description,
        "A valid NIP-05 document (no envelope, `Access-Control-Allow-Origin: *`): the lowercased profile name (or " +
          '`_`) mapped to the main key. With `?name=`, only a case-insensitive match, else `{"names":{}}`.'
      )
  )
  .annotate(OpenApi.Title, "system") {}
