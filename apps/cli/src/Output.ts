/**
 * What every command shares: the `--json` and `--verbose` flags, printing (human text or one JSON document per
 * line, nothing else, on stdout), and turning any failure into one clear line on stderr and a non-zero exit code
 * (`CommandFailed`, which `bin.ts` turns into the process exit code). With `--verbose` the full cause is printed
 * as well. Secrets never reach a message: errors are described from their tag and public fields only.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as ApiError from "@portal/api/ApiError"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The command failed; its line was already printed. `exitCode` is what the process exits with.
 * @category errors
 */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  line: Schema.String,
  exitCode: Schema.Int
}) {
  override get message() {
    return this.line
  }
}

/**
 * A failure the CLI itself detects (bad input, a declined request…), with the line to print.
 * @category errors
 */
export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  message: Schema.String,
  exitCode: Schema.optionalWith(Schema.Int, { default: () => 1 })
}) {}

/** @category options */
export const json = Options.boolean("json").pipe(
  Options.withDescription("Print machine-readable JSON only (one document per line)")
)

/** @category options */
export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("Print the full cause (stack traces) when the command fails")
)

/** @category options */
export const flags = { json, verbose }

/** @category models */
export interface Flags {
  readonly json: boolean
  readonly verbose: boolean
}

/**
 * A command description with an example, for `--help`.
 * @category help
 */
export const help = (text: string, ...examples: ReadonlyArray<string>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(text),
    HelpDoc.p(Span.strong(examples.length > 1 ? "Examples:" : "Example:")),
    ...examples.map((example) => HelpDoc.p(Span.code(`  $ ${example}`)))
  ])

/**
 * Prints `human` (lines) or, with `--json`, `data` as one JSON line.
 * @category printing
 */
export const print = (flags: Flags, human: string | ReadonlyArray<string>, data: unknown): Effect.Effect<void> =>
  flags.json ? Console.log(JSON.stringify(data)) : Console.log(typeof human === "string" ? human : human.join("\n"))

/**
 * Human-only output (progress, hints): stderr, never in `--json` mode.
 * @category printing
 */
export const note = (flags: Flags, line: string): Effect.Effect<void> =>
  flags.json ? Effect.void : Console.error(line)

/** The network code (ECONNREFUSED…) or the innermost message of a transport failure's cause chain. */
const codeOf = (u: unknown): string | undefined => {
  let current: unknown = u
  let message: string | undefined
  for (let depth = 0; depth < 5 && Predicate.isObject(current); depth++) {
    if ("code" in current && typeof current.code === "string") return current.code
    if ("message" in current && typeof current.message === "string") message = current.message
    current = "cause" in current ? current.cause : undefined
  }
  return message
}

/**
 * One line describing a failure: wire errors by status and message, transport failures by their network code,
 * our own errors by their message.
 * @category errors
 */
export const describe = (error: unknown): string => {
  if (ApiError.isApiError(error)) return `daemon answered ${ApiError.statusOf[error._tag]}: ${error.error}`
  if (error instanceof HttpClientError.RequestError) {
    const code = codeOf(error.cause) ?? "connection failed"
    return `cannot reach the daemon at ${originOf(error.request.url)}: ${code} (is it running? check --url / PORTAL_URL)`
  }
  if (error instanceof HttpClientError.ResponseError)
    return `unexpected answer from the daemon (${error.reason}, HTTP ${error.response.status})`
  if (ParseResult.isParseError(error)) return `unexpected answer from the daemon: ${firstLine(error.message)}`
  if (Predicate.hasProperty(error, "message")) return firstLine(String(error.message))
  return String(error)
}

const firstLine = (text: string): string => text.split("\n")[0] ?? text

const originOf = (url: string): string => {
  try {
    return new URL(url).origin
  } catch {
    return "the configured URL"
  }
}

/**
 * Runs a command's work: any failure is printed as one line (plus the cause with `--verbose`) and becomes
 * `CommandFailed`. Interruption (Ctrl-C) is left alone.
 * @category running
 */
export const run =
  (flags: Flags) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, CommandFailed, R> =>
    Effect.catchAllCause(effect, (cause) => {
      if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const failure = Cause.failureOption(cause)
      const error = Option.isSome(failure) ? failure.value : Cause.squash(cause)
      const line = `error: ${describe(error)}`
      const exitCode = error instanceof CliError ? error.exitCode : 1
      return Effect.zipRight(
        flags.verbose ? Console.error(Cause.pretty(cause)) : Effect.void,
        Effect.zipRight(Console.error(line), Effect.fail(new CommandFailed({ line, exitCode })))
      )
    })
