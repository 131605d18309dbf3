/**
 * Secret files and input: read a key, token or mnemonic from a file or stdin (kept `Redacted`), and write a new
 * file with mode 0600 that never replaces an existing one.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { CliError } from "./Output.js"

/**
 * A file's content, trimmed, as a secret.
 * @category reading
 */
export const readFile = (path: string): Effect.Effect<Redacted.Redacted<string>, CliError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
    Effect.map((text) => Redacted.make(text.trim())),
    Effect.mapError((e) => new CliError({ message: `cannot read ${path}: ${e.message.split(":")[0] ?? e._tag}` }))
  )

/**
 * All of stdin, trimmed, as a secret; fails when stdin is a terminal (nothing was piped).
 * @category reading
 */
export const readStdin = (what: string): Effect.Effect<Redacted.Redacted<string>, CliError> =>
  Effect.suspend(() => {
    if (process.stdin.isTTY) {
      return Effect.fail(new CliError({ message: `${what}: give a file, an env variable, or pipe it on stdin` }))
    }
    return Effect.async<Redacted.Redacted<string>, CliError>((resume) => {
      const chunks: Array<Buffer> = []
      process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk))
      process.stdin.once("end", () =>
        resume(Effect.succeed(Redacted.make(Buffer.concat(chunks).toString("utf8").trim())))
      )
      process.stdin.once("error", () => resume(Effect.fail(new CliError({ message: `${what}: cannot read stdin` }))))
    })
  })

/**
 * Writes a new file readable by its owner only (0600); an existing file is never replaced unless `overwrite`.
 * @category writing
 */
export const writeNew = (
  path: string,
  content: string,
  options: { readonly overwrite?: boolean } = {}
): Effect.Effect<void, CliError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fail = (e: { readonly message: string }) =>
      new CliError({ message: `cannot write ${path}: ${e.message.split(",")[0] ?? "failed"}` })
    if (!options.overwrite && (yield* fs.exists(path).pipe(Effect.mapError(fail)))) {
      return yield* new CliError({ message: `${path} already exists (not overwritten)` })
    }
    yield* fs.writeFileString(path, content, { mode: 0o600 }).pipe(Effect.mapError(fail))
    yield* fs.chmod(path, 0o600).pipe(Effect.mapError(fail))
  })
