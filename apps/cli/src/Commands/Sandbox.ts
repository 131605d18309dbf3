/**
 * `portal sandbox [--port N] [--demo]`: starts the loopback sandbox (see `Sandbox`), prints the daemon's URL, its
 * token and an `export` block, and stays up until Ctrl-C (then everything stops and the temporary directory is
 * removed). With `--demo` it plays the story (see `Demo`) and exits with its result. The sandbox's token and
 * wallet URI are printed on purpose: they belong to throwaway loopback services.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Output from "../Output.js"

const port = Options.integer("port").pipe(
  Options.withDefault(0),
  Options.withDescription("The daemon's port (default: a free one)")
)
const demo = Options.boolean("demo").pipe(
  Options.withDescription("Play the user and run the whole story (login, payment, subscription, ticket), then exit")
)

/** @category commands */
export const command = Command.make("sandbox", { ...Output.flags, port, demo }, (flags) =>
  Output.run(flags)(
    Effect.flatMap(
      Effect.promise(() => import("../SandboxRun.js")),
      (SandboxRun) => SandboxRun.run(flags)
    )
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Starts on loopback a relay, a simulated Lightning network (merchant wallet over NWC, funded user wallet) and " +
        "the daemon on SQLite in a temporary directory; prints the URL, token and an export block; runs until Ctrl-C.",
      "portal sandbox",
      "portal sandbox --demo"
    )
  )
)
