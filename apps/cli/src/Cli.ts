/**
 * The `portal` command tree (`@effect/cli`): keys and config, every daemon operation, the user's side, and the
 * loopback sandbox. `bin.ts` runs it.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as ConfigInit from "./Commands/ConfigInit.js"
import * as Handshake from "./Commands/Handshake.js"
import * as Keys from "./Commands/Keys.js"
import * as Payments from "./Commands/Payments.js"
import * as Sandbox from "./Commands/Sandbox.js"
import * as System from "./Commands/System.js"
import * as User from "./Commands/User.js"
import * as Output from "./Output.js"

/** @category commands */
export const root = Command.make("portal").pipe(
  Command.withDescription(
    Output.help(
      "Portal from the terminal: talk to a running daemon, act as a user's wallet, manage keys, or start a sandbox.",
      "portal sandbox --demo",
      "portal keys generate"
    )
  ),
  Command.withSubcommands([
    Keys.command,
    ConfigInit.command,
    System.health,
    System.version,
    System.info,
    Handshake.handshake,
    Handshake.auth,
    Payments.pay,
    Payments.invoice,
    Payments.cashu,
    System.profile,
    System.nip05,
    System.jwt,
    System.relays,
    System.calendar,
    System.wallet,
    System.events,
    User.command,
    Sandbox.command
  ])
)

/**
 * The CLI as a function of argv (`process.argv`).
 * @category running
 */
export const run = Command.run(root, { name: "portal", version: "0.1.0" })
