/**
 * The HTTP application: `PortalApi` with every group's handlers, served by whichever `HttpServer` is provided
 * (the real Node server in `main.ts`, a random-port test server in tests).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServer from "@effect/platform/HttpServer"
import { PortalApi } from "@portal/api/PortalApi"
import * as Layer from "effect/Layer"
import { SystemLive } from "./Http/System.js"

/** Every group of the API with its handlers. */
export const ApiLayer = HttpApiBuilder.api(PortalApi).pipe(Layer.provide(SystemLive))

/** The served application; needs an `HttpServer` and the services the handlers use. */
export const HttpLayer = HttpApiBuilder.serve().pipe(HttpServer.withLogAddress, Layer.provide(ApiLayer))
