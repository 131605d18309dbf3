/**
 * The daemon's entry point: wiring only. Reads settings from the environment, serves the API on Node.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import * as BuildInfo from "./BuildInfo.js"
import * as Config from "./Config.js"
import { HttpLayer } from "./Http.js"

const ServerLayer = Layer.unwrapEffect(
  Effect.map(Config.listen, (listen) => NodeHttpServer.layer(createServer, listen))
)

const appDirectory = fileURLToPath(new URL(".", import.meta.url))

HttpLayer.pipe(
  Layer.provide(BuildInfo.layer(appDirectory)),
  Layer.provide(ServerLayer),
  Layer.provide(NodeContext.layer),
  Layer.provide(Layer.setConfigProvider(Config.fromEnv)),
  Layer.launch,
  NodeRuntime.runMain
)
