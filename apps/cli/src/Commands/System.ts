/**
 * Read-only daemon commands: `portal health`, `version`, `info`, `profile <key>`, `nip05 <name@domain>`,
 * `wallet info`; and `jwt issue|verify`, `relays list|add|remove`, `calendar next`, `events <stream>` (poll once,
 * or `--follow` until the stream's terminal event).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { NextOccurrenceRequest } from "@portal/api/CalendarApi"
import { IssueJwtRequest, VerifyJwtRequest } from "@portal/api/JwtApi"
import { RelayRequest } from "@portal/api/RelaysApi"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { MainKeyParam } from "@portal/api/Inputs"
import * as Follow from "../Follow.js"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"
import * as Common from "./Common.js"

/** @category commands */
export const health = Command.make("health", Common.flags, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.system.health(), (text) => Output.print(flags, text, { ok: text.trim() === "OK" }))
  )
).pipe(
  Command.withDescription(
    Output.help("Checks that the daemon is up (prints OK).", "portal health --url http://127.0.0.1:3000")
  )
)

/** @category commands */
export const version = Command.make("version", Common.flags, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.system.version(), (answer) =>
      Output.print(flags, `${answer.data.version} (${answer.data.git_commit})`, answer.data)
    )
  )
).pipe(Command.withDescription(Output.help("The daemon's version and git commit.", "portal version")))

/** @category commands */
export const info = Command.make("info", Common.flags, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.identity.info(), (answer) =>
      Output.print(
        flags,
        [`public key  ${answer.data.public_key}`, `version     ${answer.data.version} (${answer.data.git_commit})`],
        answer.data
      )
    )
  )
).pipe(Command.withDescription(Output.help("The daemon's signing key and version (needs the token).", "portal info")))

/** @category commands */
export const profile = Command.make("profile", { ...Common.flags, mainKey: Args.text({ name: "main_key" }) }, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.gen(function* () {
      const mainKey = yield* Common.decode(Schema.Struct({ main_key: MainKeyParam }), { main_key: flags.mainKey })
      const answer = yield* client.identity.profile({ path: mainKey })
      const p = answer.data.profile
      yield* Output.print(
        flags,
        p === null
          ? "no profile found"
          : [
              `name          ${p.name ?? "-"}`,
              `display name  ${p.display_name ?? "-"}`,
              `picture       ${p.picture ?? "-"}`,
              `nip05         ${p.nip05 ?? "-"} `
            ],
        answer.data
      )
    })
  )
).pipe(Command.withDescription(Output.help("A user's kind-0 profile from the relays.", "portal profile npub1…")))

/** @category commands */
export const nip05 = Command.make(
  "nip05",
  { ...Common.flags, identifier: Args.text({ name: "name@domain" }) },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.flatMap(client.identity.nip05({ path: { nip05: flags.identifier } }), (answer) =>
        Output.print(
          flags,
          [
            `public key  ${answer.data.profile.public_key}`,
            `relays      ${answer.data.profile.relays.join(", ") || "-"}`
          ],
          answer.data
        )
      )
    )
).pipe(Command.withDescription(Output.help("Resolves a NIP-05 identifier to a key.", "portal nip05 alice@example.org")))

const walletInfo = Command.make("info", Common.flags, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.wallet.info(), (answer) =>
      Output.print(flags, `${answer.data.wallet_type} wallet, balance ${answer.data.balance_msat} msat`, answer.data)
    )
  )
).pipe(Command.withDescription(Output.help("The daemon's Lightning wallet and balance.", "portal wallet info")))

/** @category commands */
export const wallet = Command.make("wallet").pipe(
  Command.withDescription(Output.help("The daemon's Lightning wallet.", "portal wallet info")),
  Command.withSubcommands([walletInfo])
)

const jwtIssue = Command.make(
  "issue",
  {
    ...Common.flags,
    targetKey: Args.text({ name: "target_key" }),
    hours: Options.integer("hours").pipe(
      Options.withDefault(24),
      Options.withDescription("Validity in hours (default 24)")
    )
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(IssueJwtRequest, {
          target_key: flags.targetKey,
          duration_hours: flags.hours
        })
        const answer = yield* client.jwt.issue({ payload })
        yield* Output.print(flags, answer.data.token, answer.data)
      })
    )
).pipe(
  Command.withDescription(
    Output.help("Issues a JWT for a key, signed by the daemon.", "portal jwt issue npub1… --hours 2")
  )
)

const jwtVerify = Command.make(
  "verify",
  {
    ...Common.flags,
    pubkey: Args.text({ name: "issuer_key" }),
    tokenFile: Options.file("token-file").pipe(
      Options.optional,
      Options.withDescription("Read the JWT from a file (default: stdin)")
    )
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const token = yield* Option.match(flags.tokenFile, {
          onNone: () => Secrets.readStdin("token"),
          onSome: Secrets.readFile
        })
        const payload = yield* Common.decode(VerifyJwtRequest, { pubkey: flags.pubkey, token: Redacted.value(token) })
        const answer = yield* client.jwt.verify({ payload })
        yield* Output.print(flags, `valid, for ${answer.data.target_key}`, answer.data)
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Verifies a JWT (from a file or stdin) issued by a key.",
      "portal jwt issue npub1… | portal jwt verify <daemon key>"
    )
  )
)

/** @category commands */
export const jwt = Command.make("jwt").pipe(
  Command.withDescription(Output.help("Portal JWTs: issue and verify.", "portal jwt issue --help")),
  Command.withSubcommands([jwtIssue, jwtVerify])
)

const relaysList = Command.make("list", Common.flags, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.relays.list(), (answer) =>
      Output.print(
        flags,
        answer.data.relays.length === 0
          ? "no relays"
          : answer.data.relays.map(
              (r) => `${r.url}  ${r.status}  (${r.source})${r.last_error ? `  last error: ${r.last_error}` : ""}`
            ),
        answer.data
      )
    )
  )
).pipe(Command.withDescription(Output.help("The daemon's relays and their status.", "portal relays list")))

const relayCommand = (name: "add" | "remove", text: string) =>
  Command.make(name, { ...Common.flags, relay: Args.text({ name: "relay_url" }) }, (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(RelayRequest, { relay: flags.relay })
        const answer = name === "add" ? yield* client.relays.add({ payload }) : yield* client.relays.remove({ payload })
        yield* Output.print(flags, `${name === "add" ? "added" : "removed"} ${answer.data.relay}`, answer.data)
      })
    )
  ).pipe(Command.withDescription(Output.help(text, `portal relays ${name} wss://relay.example.org`)))

/** @category commands */
export const relays = Command.make("relays").pipe(
  Command.withDescription(Output.help("The daemon's relay set.", "portal relays list")),
  Command.withSubcommands([
    relaysList,
    relayCommand("add", "Adds a relay (persisted)."),
    relayCommand("remove", "Removes a relay (persisted).")
  ])
)

const calendarNext = Command.make(
  "next",
  {
    ...Common.flags,
    calendar: Args.text({ name: "calendar" }),
    from: Options.text("from").pipe(
      Options.optional,
      Options.withDescription("Unix seconds to start from (default: now)")
    )
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const payload = yield* Common.decode(NextOccurrenceRequest, {
          calendar: flags.calendar,
          from: Option.getOrElse(flags.from, () => String(now))
        })
        const answer = yield* client.calendar.nextOccurrence({ payload })
        const next = answer.data.next_occurrence
        yield* Output.print(
          flags,
          Option.match(next, {
            onNone: () => "no next occurrence",
            onSome: (s) => `${s} (${new Date(s * 1000).toISOString()})`
          }),
          { next_occurrence: Option.getOrNull(Option.map(next, String)) }
        )
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "The next occurrence of a recurrence calendar.",
      "portal calendar next monthly",
      'portal calendar next "*-*-01 00:00:00" --from 1700000000'
    )
  )
)

/** @category commands */
export const calendar = Command.make("calendar").pipe(
  Command.withDescription(Output.help("Recurrence calendars.", "portal calendar next daily")),
  Command.withSubcommands([calendarNext])
)

/** @category commands */
export const events = Command.make(
  "events",
  {
    ...Common.flags,
    streamId: Args.text({ name: "stream_id" }),
    after: Options.integer("after").pipe(Options.optional, Options.withDescription("Only events after this index")),
    follow: Options.boolean("follow").pipe(Options.withDescription("Keep following until the terminal event"))
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      flags.follow
        ? Effect.asVoid(Follow.follow(client, { streamId: flags.streamId, operation: "any", flags }))
        : Effect.flatMap(
            client.events.poll({
              path: { stream_id: flags.streamId },
              urlParams: { after: Option.getOrUndefined(flags.after) }
            }),
            (page) =>
              flags.json
                ? Effect.forEach(page.data.events, (e) => Output.print(flags, "", e), { discard: true })
                : Output.print(
                    flags,
                    page.data.events.length === 0
                      ? "no events"
                      : page.data.events.map((e) => `#${e.index} ${e.timestamp}  ${Follow.describeEvent(e)}`),
                    null
                  )
          )
    )
).pipe(
  Command.withDescription(
    Output.help(
      "A stream's events (one JSON line each with --json); --follow waits for the terminal event.",
      "portal events 6f1c… --follow"
    )
  )
)
