/**
 * The daemon's settings (rest-api.md §7, differences.md §j and §New configuration keys).
 *
 * Sources, strongest first: environment variables `PORTAL__<SECTION>__<KEY>` (lists comma-separated), then the TOML
 * file (`--config <file>`, env `PORTAL_CONFIG`, default `<data dir>/config.toml`; a missing file means defaults), then
 * defaults. The data directory is env `PORTAL_DATA_DIR`, default `~/.portal-rest`. Every value is validated; the
 * first bad one is reported as one line naming the key and its env var.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Toml from "smol-toml"

/**
 * Where the daemon keeps its files.
 * @category paths
 */
export interface Paths {
  /** `PORTAL_DATA_DIR`, default `~/.portal-rest`. */
  readonly dataDir: string
  /** `--config <file>` or `--config=<file>`, else `PORTAL_CONFIG`, else `<data dir>/config.toml`. */
  readonly configFile: string
}

/**
 * Resolves the data directory and the config file from the command line and the environment.
 * @category paths
 */
export const paths = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  home: string
): Paths => {
  const dataDir = nonEmpty(env["PORTAL_DATA_DIR"]) ?? `${home}/.portal-rest`
  let flag: string | undefined
  argv.forEach((arg, i) => {
    if (arg === "--config") flag = argv[i + 1]
    else if (arg.startsWith("--config=")) flag = arg.slice("--config=".length)
  })
  const configFile = nonEmpty(flag) ?? nonEmpty(env["PORTAL_CONFIG"]) ?? `${dataDir}/config.toml`
  return { dataDir, configFile }
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== "" ? value : undefined

/**
 * Environment variables as a config source: `info.listen_port` is read from `PORTAL__INFO__LISTEN_PORT`.
 * @category providers
 */
export const fromEnvMap = (env: Readonly<Record<string, string | undefined>>): ConfigProvider.ConfigProvider => {
  const entries = Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)
  // Values are never split by the provider (a JSON subkey proof or a profile name may hold commas); the list settings
  // split their own values on "," (see `list`).
  return ConfigProvider.fromMap(new Map(entries), { pathDelim: "__", seqDelim: "\u001f" }).pipe(
    ConfigProvider.constantCase,
    ConfigProvider.nested("PORTAL")
  )
}

/**
 * A parsed TOML document as a config source.
 * @category providers
 */
export const fromToml = (text: string): ConfigProvider.ConfigProvider => ConfigProvider.fromJson(Toml.parse(text))

/**
 * Environment first, then the file.
 * @category providers
 */
export const layered = (
  env: Readonly<Record<string, string | undefined>>,
  tomlText: string | undefined
): ConfigProvider.ConfigProvider => {
  if (tomlText === undefined) return fromEnvMap(env)
  const file = fromToml(tomlText) // parsed now, so a malformed file fails here and not inside a later lookup
  return fromEnvMap(env).pipe(ConfigProvider.orElse(() => file))
}

/** Values that the reference writes as placeholders; they count as unset and never become live secrets. */
const placeholders = new Set(["", "your-auth-token", "your-nostr-private-key"])

// The value is read for the placeholder check only; it is never logged.
const optionalSecret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((value) => !placeholders.has(Redacted.value(value).trim())))
  )

const optionalString = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((value) => value.trim() !== "")))

/** A list: an array in the TOML file, comma-separated in env. */
const list = (name: string, fallback: ReadonlyArray<string> = []) =>
  Config.array(Config.string(), name).pipe(
    Config.map((values) =>
      values
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v !== "")
    ),
    Config.withDefault(fallback)
  )

/** Default relays of the reference daemon. */
export const defaultRelays: ReadonlyArray<string> = [
  "wss://relay.nostr.net",
  "wss://relay.damus.io",
  "wss://relay.getportal.cc"
]

/**
 * Where the HTTP server listens.
 * @category config
 */
export const listen = Config.all({
  host: Config.string("listen_host").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("listen_port").pipe(Config.withDefault(3000))
}).pipe(Config.nested("info"))

/**
 * Every setting of the daemon. Secrets stay `Redacted`; unset secrets are resolved by `Secrets`.
 * @category config
 */
export const settings = Config.all({
  info: listen,
  nostr: Config.all({
    privateKey: optionalSecret("private_key"),
    relays: list("relays", defaultRelays),
    subkeyProof: optionalString("subkey_proof")
  }).pipe(Config.nested("nostr")),
  auth: Config.all({
    authToken: optionalSecret("auth_token"),
    nip98Pubkeys: list("nip98_pubkeys"),
    sessionTtlSecs: Config.integer("session_ttl_secs").pipe(
      Config.validate({ message: "expected an integer from 60 to 86400", validation: (n) => n >= 60 && n <= 86400 }),
      Config.withDefault(300)
    )
  }).pipe(Config.nested("auth")),
  wallet: Config.all({
    lnBackend: Config.literal("none", "nwc", "breez")("ln_backend").pipe(Config.withDefault("none" as const)),
    nwcUrl: optionalSecret("url").pipe(Config.nested("nwc"))
  }).pipe(Config.nested("wallet")),
  rates: Config.all({
    source: Config.literal("yadio", "fixed", "none")("source").pipe(Config.withDefault("yadio" as const)),
    url: Config.string("url").pipe(Config.withDefault("https://api.yadio.io/exrates/BTC")),
    fixed: list("fixed"),
    maxAgeSecs: positiveInt("max_age_secs", 60)
  }).pipe(Config.nested("rates")),
  database: Config.all({
    path: Config.string("path").pipe(Config.withDefault("portal-rest.db")),
    retentionDays: Config.integer("retention_days").pipe(
      Config.validate({ message: "expected a whole number of days ≥ 0", validation: (n) => n >= 0 }),
      Config.withDefault(30)
    ),
    url: optionalSecret("url")
  }).pipe(Config.nested("database")),
  webhook: Config.all({
    url: optionalString("url"),
    secret: optionalSecret("secret"),
    timeoutMs: positiveInt("timeout_ms", 10_000),
    maxAgeHours: positiveInt("max_age_hours", 72),
    concurrency: positiveInt("concurrency", 8)
  }).pipe(Config.nested("webhook")),
  profile: Config.all({
    name: optionalString("name"),
    displayName: optionalString("display_name"),
    picture: optionalString("picture"),
    nip05: optionalString("nip05")
  }).pipe(Config.nested("profile")),
  logging: Config.all({
    level: Config.literal("trace", "debug", "info", "warn", "error")("filter").pipe(Config.withDefault("info" as const))
  }).pipe(Config.nested("logging")),
  server: Config.all({
    corsOrigins: list("cors_origins"),
    maxBodyBytes: positiveInt("max_body_bytes", 1_048_576),
    requestTimeoutMs: positiveInt("request_timeout_ms", 60_000),
    shutdownGraceMs: positiveInt("shutdown_grace_ms", 10_000),
    publicUrl: optionalString("public_url"),
    trustProxy: Config.boolean("trust_proxy").pipe(Config.withDefault(false))
  }).pipe(Config.nested("server"))
})

/** @category config */
export type Settings = Config.Config.Success<typeof settings>

function positiveInt(name: string, fallback: number) {
  return Config.integer(name).pipe(
    Config.validate({ message: "expected a whole number greater than 0", validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )
}

/**
 * The config key (`info.listen_port`) and env var (`PORTAL__INFO__LISTEN_PORT`) of an error path, from either
 * source's form of it.
 */
const describePath = (path: ReadonlyArray<string>): string => {
  const segments = path[0] === "PORTAL" ? path.slice(1) : path
  const key = segments.map((s) => s.toLowerCase()).join(".")
  const env = ["PORTAL", ...segments.map((s) => s.toUpperCase())].join("__")
  return `${key} (${env})`
}

/**
 * One line for the first bad value (an invalid value wins over a missing one), without a stack trace.
 * @category errors
 */
export const formatError = (error: ConfigError.ConfigError): string => {
  const leaves: Array<{ readonly invalid: boolean; readonly path: ReadonlyArray<string>; readonly message: string }> =
    []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "InvalidData":
      case "SourceUnavailable":
      case "Unsupported":
        leaves.push({ invalid: true, path: e.path, message: e.message })
        return
      case "MissingData":
        leaves.push({ invalid: false, path: e.path, message: "is required" })
    }
  }
  walk(error)
  const first = leaves.find((l) => l.invalid) ?? leaves[0]
  if (first === undefined) return "Invalid configuration"
  const message = first.message.replace(/^Expected /, "expected ")
  return `Invalid configuration: ${describePath(first.path)}: ${message}`
}
