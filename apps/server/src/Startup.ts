/**
 * Loading everything the daemon needs before it serves: paths, the validated settings (env over TOML file over
 * defaults) and the resolved secrets. Any failure is a `StartupError` whose message is the one line printed before
 * exiting 1.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Keys from "@portal/nostr/Keys"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Subkey from "@portal/protocol/Subkey"
import * as Config from "./Config.js"
import * as Secrets from "./Secrets.js"

/** @category models */
export interface Loaded {
  readonly paths: Config.Paths
  readonly settings: Config.Settings
  readonly secrets: Secrets.Secrets
  /** The daemon's Nostr key pair, from `secrets.privateKey` (64-hex or `nsec1…`). */
  readonly keys: Keys.KeyPair
  /** `nostr.subkey_proof` (subkey mode, rest-api.md §8.2), checked to derive `keys.publicKey`. */
  readonly subkeyProof: Option.Option<Subkey.SubkeyProof>
}

const decodeProof = Schema.decodeUnknown(Schema.parseJson(Subkey.SubkeyProof))

const subkeyProofError = (detail: string) =>
  new Secrets.StartupError({
    message: `Invalid configuration: nostr.subkey_proof (PORTAL__NOSTR__SUBKEY_PROOF): ${detail}`
  })

/** Parses the configured proof and checks that it derives the daemon's key (the math only, as the reference). */
const loadSubkeyProof = (text: Option.Option<string>, keys: Keys.KeyPair) =>
  Option.match(text, {
    onNone: () => Effect.succeedNone,
    onSome: (json) =>
      decodeProof(json).pipe(
        Effect.mapError((e) => subkeyProofError(e.message.split("\n")[0] ?? "malformed")),
        Effect.tap((proof) =>
          Subkey.verifyProof(proof, keys.publicKey).pipe(Effect.mapError((e) => subkeyProofError(e.message)))
        ),
        Effect.map(Option.some)
      )
  })

const readConfigFile = (file: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(file)
    return exists ? yield* fs.readFileString(file) : undefined
  }).pipe(
    Effect.mapError(
      (e) => new Secrets.StartupError({ message: `Invalid configuration: cannot read ${file}: ${e.message}` })
    )
  )

const providerFor = (env: Readonly<Record<string, string | undefined>>, file: string, text: string | undefined) =>
  Effect.try({
    try: () => Config.layered(env, text),
    catch: (cause) =>
      new Secrets.StartupError({
        message: `Invalid configuration: ${file} is not valid TOML: ${cause instanceof Error ? cause.message.split("\n")[0] : String(cause)}`
      })
  })

/**
 * Reads the config and resolves the secrets.
 * @category constructors
 */
export const load = (options: {
  readonly argv: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly home: string
}): Effect.Effect<Loaded, Secrets.StartupError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const paths = Config.paths(options.argv, options.env, options.home)
    const text = yield* readConfigFile(paths.configFile)
    const provider = yield* providerFor(options.env, paths.configFile, text)
    const settings = yield* Effect.withConfigProvider(Config.settings, provider).pipe(
      Effect.mapError((e) => new Secrets.StartupError({ message: Config.formatError(e) }))
    )
    const secrets = yield* Secrets.resolve({
      authToken: settings.auth.authToken,
      privateKey: settings.nostr.privateKey,
      dataDir: paths.dataDir,
      sharedDatabase: Option.isSome(settings.database.url)
    })
    const keys = yield* Keys.fromSecret(secrets.privateKey).pipe(
      Effect.mapError(
        (e) =>
          new Secrets.StartupError({
            message: `Invalid configuration: nostr.private_key (PORTAL__NOSTR__PRIVATE_KEY): ${e.message}`
          })
      )
    )
    const subkeyProof = yield* loadSubkeyProof(settings.nostr.subkeyProof, keys)
    return { paths, settings, secrets, keys, subkeyProof }
  })
