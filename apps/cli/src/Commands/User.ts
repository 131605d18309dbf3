/**
 * `portal user <portal-url>`: the user's wallet from the terminal (what the Portal app does), with the user's key
 * from `--key-file` or `PORTAL_USER_KEY` (hex or nsec). It listens for requests addressed to the key, sends the
 * key handshake for the URL (to the URL's relays), then answers each request: interactively, a prompt per request
 * showing who asks and for what, or by flag (`--approve-all`, `--decline-all`). It runs until Ctrl-C, or until it
 * has answered `--max-requests` requests.
 *
 * Answered today: auth challenges (`@portal/user` Auth). Payment, subscription, invoice and Cashu requests are
 * answered once `@portal/user` implements their side.
 *
 * The user's relays are the URL's relays unless `--relay` is given.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Prompt from "@effect/cli/Prompt"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"

/**
 * How requests are answered.
 * @category models
 */
export type Mode = "ask" | "approve" | "decline"

/**
 * One request, as the prompt and the log show it.
 * @category models
 */
export interface Request {
  readonly kind: "auth"
  readonly from: string
  readonly what: string
}

/**
 * Asks on the terminal (one prompt at a time), or answers by mode.
 * @category deciding
 */
export const decider = (mode: Mode, terminal: Context.Context<Prompt.Prompt.Environment>) =>
  Effect.map(Effect.makeSemaphore(1), (lock) => (request: Request): Effect.Effect<boolean> => {
    if (mode !== "ask") return Effect.succeed(mode === "approve")
    return lock.withPermits(1)(
      Prompt.run(
        Prompt.confirm({
          message: `${request.what} from ${request.from}. Approve?`,
          initial: false,
          label: { confirm: "y", deny: "n" }
        })
      ).pipe(
        Effect.provide(terminal),
        Effect.orElseSucceed(() => false)
      )
    )
  })

/**
 * Runs the user side until interrupted or `maxRequests` answers were sent.
 * @category running
 */
export const run = (options: {
  readonly flags: Output.Flags
  readonly secretKey: Redacted.Redacted<string>
  readonly url: string
  readonly relays: ReadonlyArray<string>
  readonly mode: Mode
  readonly maxRequests: Option.Option<number>
}) =>
  Effect.gen(function* () {
    const { flags } = options
    const url = yield* HandshakeUrl.parse(options.url).pipe(
      Effect.mapError((e) => new Output.CliError({ message: `portal URL: ${e.message}`, exitCode: 2 }))
    )
    const keys = yield* Keys.fromSecret(options.secretKey)
    const relays = options.relays.length > 0 ? options.relays : url.relays
    const context = yield* Layer.build(
      User.layerLocal({ secretKey: options.secretKey, subscribeWait: "2 seconds" }).pipe(
        Layer.provide(RelayPool.layerNode({ relays }))
      )
    )
    const user = Context.get(context, User.User)
    const terminal = yield* Effect.context<Prompt.Prompt.Environment>()
    const decide = yield* decider(options.mode, terminal)
    const done = yield* Deferred.make<void>()
    let answered = 0
    const counted = Effect.suspend(() => {
      answered++
      return Option.isSome(options.maxRequests) && answered >= options.maxRequests.value
        ? Deferred.succeed(done, undefined)
        : Effect.void
    })

    const challenges = yield* user.subscribeAuthChallenges
    yield* challenges.pipe(
      Stream.runForEach((challenge) =>
        Effect.gen(function* () {
          const from = Keys.npub(challenge.serviceKey)
          const approve = yield* decide({ kind: "auth", from, what: "Login request" })
          yield* user.respond(challenge, approve ? Auth.approve() : Auth.decline())
          yield* Output.print(flags, `${approve ? "approved" : "declined"} login request from ${from}`, {
            type: "auth",
            service_key: challenge.serviceKey,
            decision: approve ? "approved" : "declined"
          })
          yield* counted
        }).pipe(
          Effect.catchAll((error) => Output.note(flags, `could not answer a login request: ${Output.describe(error)}`))
        )
      ),
      Effect.forkScoped
    )

    const sent = yield* user.handshake(url)
    yield* Output.print(
      flags,
      `handshake sent as ${Keys.npub(keys.publicKey)} (${keys.publicKey}) to ${url.relays.join(", ")}; ` +
        `answering requests${options.mode === "ask" ? "" : ` (${options.mode} all)`}, Ctrl-C to stop`,
      { type: "handshake", public_key: keys.publicKey, event_id: sent.event.id }
    )
    yield* Deferred.await(done)
  }).pipe(Effect.scoped)

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
const maxRequests = Options.integer("max-requests").pipe(
  Options.optional,
  Options.withDescription("Exit after answering this many requests")
)

/** @category commands */
export const command = Command.make(
  "user",
  { ...Output.flags, url: Args.text({ name: "portal_url" }), keyFile, approveAll, declineAll, relay, maxRequests },
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
        yield* run({
          flags,
          secretKey,
          url: flags.url,
          relays: flags.relay,
          mode: flags.approveAll ? "approve" : flags.declineAll ? "decline" : "ask",
          maxRequests: flags.maxRequests
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
