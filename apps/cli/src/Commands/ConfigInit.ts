/**
 * `portal config init`: writes a starter `config.toml` for the daemon with a freshly generated API token (32
 * random bytes, hex), mode 0600, at `--path`, else `PORTAL_CONFIG`, else `<PORTAL_DATA_DIR or ~/.portal-rest>/
 * config.toml` — where the daemon looks. The token is never printed: it is read from the file
 * (`PORTAL_TOKEN=$(…)`, see the printed hint). An existing file is kept unless `--force`.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { homedir } from "node:os"
import { dirname, join } from "node:path"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"

/**
 * The starter file: every section the daemon reads, with the generated token and safe local defaults.
 * @category templates
 */
export const template = (token: string): string => `# Portal daemon configuration (written by \`portal config init\`).
# Every key can be overridden by an env var PORTAL__<SECTION>__<KEY>, e.g. PORTAL__INFO__LISTEN_PORT=3001.

[info]
listen_host = "127.0.0.1"
listen_port = 3000

[auth]
# The API bearer token (keep this file private: mode 0600).
auth_token = "${token}"
# Keys allowed to log in with NIP-98 at GET /auth/nip98 (hex).
nip98_pubkeys = []

[nostr]
# The daemon's Nostr key (hex or nsec); left out, one is generated into the data directory on first start.
# private_key = "nsec1…"
relays = ["wss://relay.nostr.net", "wss://relay.damus.io", "wss://relay.getportal.cc"]

[wallet]
# "none", or "nwc" with wallet.nwc.url (a nostr+walletconnect:// URI, which holds a secret)
ln_backend = "none"
# [wallet.nwc]
# url = "nostr+walletconnect://…"

[database]
path = "portal-rest.db"
retention_days = 30

[logging]
filter = "info"
`

const path = Options.file("path").pipe(
  Options.optional,
  Options.withDescription(
    "Where to write (default: PORTAL_CONFIG, else <PORTAL_DATA_DIR or ~/.portal-rest>/config.toml)"
  )
)
const force = Options.boolean("force").pipe(Options.withDescription("Replace an existing file"))

const defaultPath = Effect.gen(function* () {
  const configured = yield* Config.option(Config.nonEmptyString("PORTAL_CONFIG"))
  if (Option.isSome(configured)) return configured.value
  const dataDir = yield* Config.nonEmptyString("PORTAL_DATA_DIR").pipe(
    Config.withDefault(join(homedir(), ".portal-rest"))
  )
  return join(dataDir, "config.toml")
})

/** @category commands */
export const init = Command.make("init", { ...Output.flags, path, force }, (flags) =>
  Output.run(flags)(
    Effect.gen(function* () {
      const file = Option.isSome(flags.path) ? flags.path.value : yield* defaultPath
      const fs = yield* FileSystem.FileSystem
      yield* fs
        .makeDirectory(dirname(file), { recursive: true, mode: 0o700 })
        .pipe(Effect.mapError((e) => new Output.CliError({ message: `cannot create ${dirname(file)}: ${e.message}` })))
      yield* Secrets.writeNew(file, template(randomBytes(32).toString("hex")), { overwrite: flags.force })
      yield* Output.print(
        flags,
        [
          `wrote ${file} (mode 0600) with a generated API token`,
          `use it:  export PORTAL_TOKEN="$(sed -n 's/^auth_token = "\\(.*\\)"/\\1/p' ${file})"`
        ],
        { path: file }
      )
    })
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Writes a starter config.toml for the daemon with a generated API token (mode 0600, never printed).",
      "portal config init",
      "portal config init --path ./portal/config.toml --force"
    )
  )
)

/** @category commands */
export const command = Command.make("config").pipe(
  Command.withDescription(Output.help("The daemon's configuration file.", "portal config init")),
  Command.withSubcommands([init])
)
