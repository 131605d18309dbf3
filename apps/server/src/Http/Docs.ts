/**
 * Handlers of the `docs` group (differences.md §n): `GET /openapi.json`, generated from `PortalApi` with
 * `info.version` set to the daemon's version, and `GET /docs`, the Swagger UI that `@effect/platform` bundles
 * (`HttpApiSwagger`: its JavaScript and CSS are inlined from node_modules into the page, so it works offline, no CDN).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiSwagger from "@effect/platform/HttpApiSwagger"
import * as HttpLayerRouter from "@effect/platform/HttpLayerRouter"
import * as OpenApi from "@effect/platform/OpenApi"
import { NotFound } from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import { BuildInfoTag } from "../BuildInfo.js"

/**
 * The OpenAPI document of the API at the given daemon version.
 * @category openapi
 */
export const openApiDocument = (version: string): OpenApi.OpenAPISpec =>
  OpenApi.fromApi(PortalApi.annotate(OpenApi.Version, version))

/** @category layers */
export const DocsHandlers = HttpApiBuilder.group(PortalApi, "docs", (handlers) =>
  Effect.gen(function* () {
    const info = yield* BuildInfoTag
    const spec = openApiDocument(info.version)
    const swagger = yield* HttpLayerRouter.toHttpEffect(
      HttpApiSwagger.layerHttpLayerRouter({ api: PortalApi.annotate(OpenApi.Version, info.version), path: "/docs" })
    )
    return handlers
      .handle("openapi", () => Effect.succeed(spec))
      .handleRaw("docs", () =>
        swagger.pipe(Effect.catchAll(() => Effect.fail(new NotFound({ error: "Not found: GET /docs" }))))
      )
  })
)
