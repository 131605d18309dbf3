/**
 * `portal handshake` (a `portal://` URL shown as text and a terminal QR code, then each key that arrives) and
 * `portal handshake close <stream>`; `portal auth <main key>` (an auth challenge, then the user's answer).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { AuthenticateKeyRequest, KeyHandshakeRequest } from "@portal/api/KeysApi"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import QRCode from "qrcode"
import * as Follow from "../Follow.js"
import * as Output from "../Output.js"
import * as Common from "./Common.js"

const staticToken = Options.text("static-token").pipe(
  Options.optional,
  Options.withDescription("A reusable URL: every wallet that uses it is reported until `portal handshake close`")
)
const noRequest = Options.boolean("no-request").pipe(
  Options.withDescription("Ask the wallet not to send a login request after the handshake")
)
const noQr = Options.boolean("no-qr").pipe(Options.withDescription("Do not draw the QR code"))

/** A QR code drawn with half blocks, for a terminal. */
export const qr = (text: string): Effect.Effect<string> =>
  Effect.promise(() => QRCode.toString(text, { type: "terminal", small: true, errorCorrectionLevel: "L" }))

const closeCommand = Command.make("close", { ...Common.flags, streamId: Args.text({ name: "stream_id" }) }, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.flatMap(client.keys.closeKeyHandshake({ path: { stream_id: flags.streamId } }), (answer) =>
      Output.print(flags, `closed ${answer.data.stream_id}`, answer.data)
    )
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Stops a reusable (static-token) handshake URL; its stream ends with `error closed`.",
      "portal handshake close 6f1c…"
    )
  )
)

/** @category commands */
export const handshake = Command.make(
  "handshake",
  { ...Common.flags, staticToken, noRequest, noQr, noWait: Common.noWait },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(KeyHandshakeRequest, {
          ...Option.match(flags.staticToken, { onNone: () => ({}), onSome: (t) => ({ static_token: t }) }),
          no_request: flags.noRequest
        })
        const started = (yield* client.keys.keyHandshake({ payload })).data
        if (flags.json) yield* Output.print(flags, "", started)
        else {
          if (!flags.noQr) yield* Console.log(yield* qr(started.url))
          yield* Console.log(started.url)
          yield* Console.log(`stream ${started.stream_id}`)
        }
        if (flags.noWait) return
        yield* Follow.follow(client, {
          streamId: started.stream_id,
          operation: Option.isSome(flags.staticToken) ? "static-handshake" : "handshake",
          flags
        })
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Creates a portal:// key-handshake URL (printed with a QR code) and prints the key of each wallet that opens " +
        "it. One-shot by default: ends at the first key (or `error timeout` after 300 s).",
      "portal handshake",
      "portal handshake --static-token shop-door --json"
    )
  ),
  Command.withSubcommands([closeCommand])
)

/** @category commands */
export const auth = Command.make(
  "auth",
  { ...Common.flags, mainKey: Args.text({ name: "main_key" }), subkeys: Common.subkeys, noWait: Common.noWait },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(AuthenticateKeyRequest, {
          main_key: flags.mainKey,
          subkeys: flags.subkeys
        })
        const started = (yield* client.keys.authenticateKey({ payload })).data
        yield* Common.followStarted(client, flags, started, "auth")
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Sends an auth challenge to a user (their main key, hex or npub) and waits for the answer; exits 1 when declined.",
      "portal auth npub1…"
    )
  )
)
