/**
 * The `portal` process edge: runs `Cli.run` on argv with the Node context. Exit codes: 0 success, 1 a failed
 * command (its one line already printed), 2 bad usage (unknown flag or command, bad value); Ctrl-C interrupts the
 * command, which stops cleanly (exit 0).
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Cli from "./Cli.js"

const commandPath = (argv: ReadonlyArray<string>): string =>
  argv
    .slice(2)
    .filter((arg) => /^[a-z][a-z0-9-]*$/.test(arg))
    .slice(0, 2)
    .join(" ")

Cli.run(process.argv).pipe(
  Effect.catchIf(ValidationError.isValidationError, (error) =>
    ValidationError.isHelpRequested(error)
      ? Effect.void
      : Console.error(
          `usage: portal ${commandPath(process.argv)} [options] — see \`portal ${commandPath(process.argv)} --help\``.replace(
            /  +/g,
            " "
          )
        ).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 2))))
  ),
  Effect.catchTag("CommandFailed", (failed) => Effect.sync(() => (process.exitCode = failed.exitCode))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
