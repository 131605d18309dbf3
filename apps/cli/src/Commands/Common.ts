/**
 * Shared parts of the commands that talk to a daemon: the client flags, decoding flag values with the contract's
 * own request schemas (so a bad value is rejected before any request, with the message the daemon would give,
 * naming the field), and starting an operation then following its stream.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Follow from "../Follow.js"
import * as Output from "../Output.js"
import * as PortalClient from "../PortalClient.js"

/** @category options */
export const flags = { ...Output.flags, ...PortalClient.flags }

/** @category models */
export type Flags = Output.Flags & PortalClient.Target

/** @category options */
export const noWait = Options.boolean("no-wait").pipe(
  Options.withDescription("Print the stream id and return without following the stream")
)

/** @category options */
export const subkeys = Options.text("subkey").pipe(
  Options.repeated,
  Options.withDescription("A subkey of the user (hex or npub); repeat for several")
)

/**
 * Runs `f` with a client for the flags' daemon; failures become one line.
 * @category running
 */
export const withClient = <A, E, R>(flags: Flags, f: (client: PortalClient.Client) => Effect.Effect<A, E, R>) =>
  Output.run(flags)(Effect.flatMap(PortalClient.make(flags), f))

/**
 * Decodes a request body built from flags with the endpoint's schema; the first problem, with its field path.
 * @category decoding
 */
export const decode = <A, I>(schema: Schema.Schema<A, I>, raw: unknown): Effect.Effect<A, Output.CliError> =>
  Schema.decodeUnknown(schema, { errors: "first" })(raw).pipe(
    Effect.mapError((error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      const path = issue === undefined ? "" : issue.path.join(".")
      const message = issue?.message ?? error.message
      return new Output.CliError({
        message: path === "" || message.startsWith("Invalid ") ? message : `${path}: ${message}`,
        exitCode: 2
      })
    })
  )

/**
 * Prints a started stream, then follows it unless `--no-wait`.
 * @category running
 */
export const followStarted = (
  client: PortalClient.Client,
  flags: Output.Flags & { readonly noWait: boolean },
  started: { readonly stream_id: string },
  operation: Follow.Operation
) =>
  Effect.gen(function* () {
    yield* Output.print(flags, `stream ${started.stream_id}`, { stream_id: started.stream_id })
    if (flags.noWait) return
    yield* Follow.follow(client, { streamId: started.stream_id, operation, flags })
  })
