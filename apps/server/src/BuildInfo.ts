/**
 * What `/version` and `/info` report: the daemon's version and the git commit of the running tree.
 *
 * The commit is read once at startup from git (8 hex chars, `-dirty` when the tree has uncommitted changes);
 * outside a git checkout, or when git is missing, it is `unknown`.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** The daemon version; a test keeps it equal to `apps/server/package.json`. */
export const version = "0.1.0"

/** @category models */
export interface BuildInfo {
  readonly version: string
  readonly gitCommit: string
}

/** @category tags */
export class BuildInfoTag extends Context.Tag("@portal/server/BuildInfo")<BuildInfoTag, BuildInfo>() {}

const git = (directory: string, ...args: ReadonlyArray<string>) =>
  Command.make("git", ...args).pipe(
    Command.workingDirectory(directory),
    Command.string,
    Effect.map((out) => out.trim()),
    Effect.option
  )

/**
 * Reads the commit of the checkout that holds `directory`.
 * @category constructors
 */
export const gitCommit = (directory: string): Effect.Effect<string, never, CommandExecutor.CommandExecutor> =>
  Effect.gen(function* () {
    const head = yield* git(directory, "rev-parse", "--short=8", "HEAD")
    if (Option.isNone(head) || !/^[0-9a-f]{8}$/.test(head.value)) return "unknown"
    const status = yield* git(directory, "status", "--porcelain", "--untracked-files=no")
    return Option.isSome(status) && status.value.length > 0 ? `${head.value}-dirty` : head.value
  })

/**
 * Build information for the tree that holds `directory`.
 * @category layers
 */
export const layer = (directory: string): Layer.Layer<BuildInfoTag, never, CommandExecutor.CommandExecutor> =>
  Layer.effect(
    BuildInfoTag,
    Effect.map(gitCommit(directory), (gitCommit) => ({ version, gitCommit }))
  )

/**
 * Fixed build information, for tests.
 * @category layers
 */
export const layerStatic = (info: BuildInfo): Layer.Layer<BuildInfoTag> => Layer.succeed(BuildInfoTag, info)
