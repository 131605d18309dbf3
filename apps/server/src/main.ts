/**
 * The daemon's entry point: the process edge. Reads argv, the environment and the home directory, launches
 * `Daemon.layer` until SIGTERM/SIGINT, and turns a startup failure into one clear line and exit code 1.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { homedir } from "node:os"
import * as Daemon from "./Daemon.js"

Daemon.layer({ argv: process.argv.slice(2), env: process.env, home: homedir() }).pipe(
  Layer.launch,
  Effect.catchTag("StartupError", (error) =>
    Console.error(error.message).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1))))
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disablePrettyLogger: false })
)
