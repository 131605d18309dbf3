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
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Demo from "../Demo.js"
import * as Output from "../Output.js"
import * as Sandbox from "../Sandbox.js"

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
    Effect.gen(function* () {
      yield* Output.note(flags, "starting the sandbox (relay, simulated Lightning, daemon)…")
      const sandbox = yield* Sandbox.make({ port: flags.port })
      const token = Redacted.value(sandbox.token)
      const nwc = Redacted.value(sandbox.userNwcUrl)
      yield* Output.print(
        flags,
        [
          "Portal sandbox is up (Ctrl-C stops it and removes everything).",
          `  daemon       ${sandbox.url}`,
          `  relay        ${sandbox.relayUrl}`,
          `  user wallet  simulated, ${Sandbox.USER_BALANCE_MSAT} msat (NWC URI in the export block)`,
          `  Cashu mint   ${Option.getOrElse(sandbox.mintUrl, () => "none")} (units sat, ticket)`,
          `  data dir     ${sandbox.dataDir}`,
          "",
          `export PORTAL_URL=${sandbox.url}`,
          `export PORTAL_TOKEN=${token}`,
          `export PORTAL_USER_NWC_URL='${nwc}'`,
          ...Option.match(sandbox.mintUrl, {
            onNone: () => [],
            onSome: (url) => [
              `export PORTAL_MINT_URL=${url}`,
              `export PORTAL_MINT_STATIC_AUTH=${Redacted.value(sandbox.mintStaticAuth)}`
            ]
          })
        ],
        {
          url: sandbox.url,
          token,
          relay_url: sandbox.relayUrl,
          user_nwc_url: nwc,
          mint_url: Option.getOrNull(sandbox.mintUrl),
          mint_static_auth: Redacted.value(sandbox.mintStaticAuth),
          data_dir: sandbox.dataDir
        }
      )
      if (flags.demo) return yield* Demo.run(sandbox, flags)
      yield* Output.note(flags, "\ntry:  portal handshake   (in another terminal, after the export lines above)")
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.ensuring(Output.note(flags, "sandbox stopped")))
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
