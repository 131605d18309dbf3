/**
 * The daemon's two secrets — the API token and the Nostr secret key — resolved as differences.md §j says:
 * env var → config file → a file in the data directory → generated on first start.
 *
 * Generated secrets are strong (32 random bytes; a random valid secp256k1 key), written with mode 0600 into a data
 * directory created with mode 0700, and announced on stderr by path, never by value. Placeholders such as
 * `your-auth-token` never become live secrets. With PostgreSQL (several instances share one database) nothing is
 * generated: every instance must be configured with the same secrets.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Keys from "@portal/nostr/Keys"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"

/**
 * Startup cannot go on; the message is the one line the daemon prints before exiting 1.
 * @category errors
 */
export class StartupError extends Schema.TaggedError<StartupError>()("StartupError", {
  message: Schema.String
}) {}

/** @category models */
export interface Secrets {
  readonly authToken: Redacted.Redacted<string>
  /** 64-hex or `nsec1…`, as configured or generated. */
  readonly privateKey: Redacted.Redacted<string>
}

interface SecretSpec {
  readonly key: string
  readonly file: string
  readonly label: string
  readonly generate: Effect.Effect<string>
}

const authTokenSpec: SecretSpec = {
  key: "auth.auth_token",
  file: "auth_token",
  label: "API token",
  generate: Effect.sync(() => randomBytes(32).toString("hex"))
}

const privateKeySpec: SecretSpec = {
  key: "nostr.private_key",
  file: "nostr_private_key",
  label: "Nostr secret key",
  generate: Effect.map(Keys.generate, (keys) => Redacted.value(Keys.secretHex(keys)))
}

const placeholders = new Set(["", "your-auth-token", "your-nostr-private-key"])

const resolveOne = (
  spec: SecretSpec,
  configured: Option.Option<Redacted.Redacted<string>>,
  dataDir: string,
  mayGenerate: boolean
) =>
  Effect.gen(function* () {
    if (Option.isSome(configured)) return configured.value
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(dataDir, spec.file)
    const fail = (what: string) => (cause: unknown) =>
      new StartupError({ message: `Cannot ${what} ${file}: ${cause instanceof Error ? cause.message : String(cause)}` })
    if (yield* fs.exists(file).pipe(Effect.mapError(fail("read")))) {
      const info = yield* fs.stat(file).pipe(Effect.mapError(fail("read")))
      if ((info.mode & 0o077) !== 0) {
        yield* Effect.logWarning(`${file} is readable by other users; run: chmod 600 ${file}`)
      }
      const stored = (yield* fs.readFileString(file).pipe(Effect.mapError(fail("read")))).trim()
      if (!placeholders.has(stored)) return Redacted.make(stored)
    }
    if (!mayGenerate) {
      return yield* new StartupError({
        message:
          "Invalid configuration: auth.auth_token and nostr.private_key must be configured when database.url is set (all instances must share them)"
      })
    }
    yield* fs.makeDirectory(dataDir, { recursive: true, mode: 0o700 }).pipe(Effect.mapError(fail("create")))
    const generated = yield* spec.generate
    yield* fs.writeFileString(file, generated + "\n", { mode: 0o600 }).pipe(Effect.mapError(fail("write")))
    yield* fs.chmod(file, 0o600).pipe(Effect.mapError(fail("protect")))
    yield* Console.error(`Generated ${spec.label} and stored it in ${file} (mode 0600)`)
    return Redacted.make((yield* fs.readFileString(file).pipe(Effect.mapError(fail("read")))).trim())
  })

/**
 * Resolves both secrets, generating and storing the missing ones unless `database.url` is set.
 * @category constructors
 */
export const resolve = (options: {
  readonly authToken: Option.Option<Redacted.Redacted<string>>
  readonly privateKey: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
  readonly sharedDatabase: boolean
}): Effect.Effect<Secrets, StartupError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const mayGenerate = !options.sharedDatabase
    const authToken = yield* resolveOne(authTokenSpec, options.authToken, options.dataDir, mayGenerate)
    const privateKey = yield* resolveOne(privateKeySpec, options.privateKey, options.dataDir, mayGenerate)
    if (Redacted.value(authToken).length < 16) {
      yield* Effect.logWarning("auth.auth_token is shorter than 16 characters; use a longer, random token")
    }
    return { authToken, privateKey }
  })
