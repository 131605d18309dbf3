/**
 * `portal user <portal-url>`: the user's wallet from the terminal (what the Portal app does), with the user's key
 * from `--key-file` or `PORTAL_USER_KEY` (hex or nsec). It listens for requests addressed to the key, sends the
 * key handshake for the URL (to the URL's relays), then answers each request: interactively, a prompt per request
 * showing who asks and for what, or by flag (`--approve-all`, `--decline-all`). It runs until Ctrl-C, or until it
 * has answered `--max-requests` requests.
 *
 * Answered: login challenges, single payments (paid from the user's wallet: `--nwc-url` / `PORTAL_USER_NWC_URL`,
 * e.g. the sandbox's funded wallet), subscriptions (their billed periods are then paid without asking, within the
 * authorisation, as the Portal app does), invoice requests (an invoice of the user's wallet; declining sends
 * nothing, as there is no refusal on the wire) and Cashu requests (from the user's ecash, which direct tokens fill).
 *
 * The user's relays are the URL's relays unless `--relay` is given.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"

const keyFile = Options.file("key-file").pipe(
  Options.optional,
  Options.withDescription("The user's secret key file (hex or nsec); else env PORTAL_USER_KEY")
)
const approveAll = Options.boolean("approve-all").pipe(Options.withDescription("Approve every request without asking"))
const declineAll = Options.boolean("decline-all").pipe(Options.withDescription("Decline every request without asking"))
const relay = Options.text("relay").pipe(
  Options.repeated,
  Options.withDescription("A relay the user reads from (default: the URL's relays); repeat for several")
)
const nwcUrl = Options.redacted("nwc-url").pipe(
  Options.withFallbackConfig(Config.redacted("PORTAL_USER_NWC_URL")),
  Options.optional,
  Options.withDescription("The user's NWC wallet (env PORTAL_USER_NWC_URL; prefer the env var, the URI holds a secret)")
)
const maxRequests = Options.integer("max-requests").pipe(
  Options.optional,
  Options.withDescription("Exit after answering this many requests")
)

/** @category commands */
export const command = Command.make(
  "user",
  {
    ...Output.flags,
    url: Args.text({ name: "portal_url" }),
    keyFile,
    approveAll,
    declineAll,
    relay,
    maxRequests,
    nwcUrl
  },
  (flags) =>
    Output.run(flags)(
      Effect.gen(function* () {
        if (flags.approveAll && flags.declineAll) {
          return yield* new Output.CliError({
            message: "--approve-all and --decline-all exclude each other",
            exitCode: 2
          })
        }
        const secretKey = Option.isSome(flags.keyFile)
          ? yield* Secrets.readFile(flags.keyFile.value)
          : yield* Config.redacted("PORTAL_USER_KEY").pipe(
              Effect.mapError(
                () =>
                  new Output.CliError({
                    message: "the user's key: give --key-file <file> or set PORTAL_USER_KEY",
                    exitCode: 2
                  })
              )
            )
        const UserRun = yield* Effect.promise(() => import("../UserRun.js"))
        yield* UserRun.run({
          flags,
          secretKey,
          url: flags.url,
          relays: flags.relay,
          mode: flags.approveAll ? "approve" : flags.declineAll ? "decline" : "ask",
          maxRequests: flags.maxRequests,
          nwcUrl: flags.nwcUrl
        })
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Acts as the user's wallet: opens a portal:// URL (key handshake), then answers the requests that arrive, " +
        "with a prompt for each or by --approve-all / --decline-all.",
      'portal user "portal://npub1…?relays=…&token=…" --key-file ./user.nsec',
      'PORTAL_USER_KEY=$(cat user.nsec) portal user "portal://…" --approve-all --max-requests 1'
    )
  )
)
