/**
 * Money commands against the daemon: `portal pay single|raw|recurring|close`, `portal invoice request|pay`,
 * `portal cashu request|send|mint|burn`. Requests are built from flags and checked with the contract's own
 * schemas; operations that start a stream are followed to their terminal event (exit 1 when rejected, failed or
 * timed out). Cashu tokens are bearer money: they are read from a file or stdin, and printed only with `--json`.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { CashuBurnRequest, CashuMintRequest, CashuRequest, CashuSendDirectRequest } from "@portal/api/CashuApi"
import { InvoiceRequest, PayInvoiceRequest } from "@portal/api/InvoicesApi"
import {
  CloseRecurringPaymentRequest,
  RawPaymentRequest,
  RecurringPaymentRequest,
  SinglePaymentRequest
} from "@portal/api/PaymentsApi"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"
import * as Common from "./Common.js"

const mainKey = Args.text({ name: "main_key" }).pipe(Args.withDescription("The user's main key (hex or npub)"))
const recipient = Args.text({ name: "recipient_key" }).pipe(Args.withDescription("The recipient's key (hex or npub)"))
const amount = Options.integer("amount").pipe(
  Options.withDescription("The amount: millisats, or the fiat currency's amount (see --currency)")
)
const currency = Options.text("currency").pipe(
  Options.withDefault("Millisats"),
  Options.withDescription('"Millisats" (default) or an ISO-4217 code such as EUR')
)
const description = Options.text("description").pipe(Options.withDescription("What the payment is for"))
const optionalText = (name: string, text: string) =>
  Options.text(name).pipe(Options.optional, Options.withDescription(text))
const expiresIn = Options.integer("expires-in").pipe(
  Options.withDefault(300),
  Options.withDescription("Seconds until the request expires (default 300)")
)

const some = <K extends string>(key: K, value: Option.Option<unknown>) =>
  Option.match(value, { onNone: () => ({}), onSome: (v) => ({ [key]: v }) as Record<K, unknown> })

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

const single = Command.make(
  "single",
  {
    ...Common.flags,
    mainKey,
    subkeys: Common.subkeys,
    amount,
    currency,
    description,
    subscriptionId: optionalText("subscription-id", "Bill a period of this authorised subscription"),
    requestId: optionalText("request-id", "Your id for the request"),
    noWait: Common.noWait
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(SinglePaymentRequest, {
          main_key: flags.mainKey,
          subkeys: flags.subkeys,
          payment_request: {
            description: flags.description,
            amount: flags.amount,
            currency: flags.currency,
            ...some("subscription_id", flags.subscriptionId),
            ...some("request_id", flags.requestId)
          }
        })
        yield* Common.followStarted(client, flags, (yield* client.payments.single({ payload })).data, "single")
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Asks a user to pay an invoice of the daemon's wallet and follows it until paid (exit 1 if rejected, failed or timed out).",
      'portal pay single npub1… --amount 21000 --description "Coffee"',
      "portal pay single npub1… --amount 5 --currency EUR --description Ticket --subscription-id sub-1"
    )
  )
)

const raw = Command.make(
  "raw",
  {
    ...Common.flags,
    mainKey,
    subkeys: Common.subkeys,
    amount,
    currency,
    invoice: Options.text("invoice").pipe(Options.withDescription("The BOLT11 invoice to ask for")),
    description: optionalText("description", "What the payment is for"),
    expiresIn,
    noWait: Common.noWait
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(RawPaymentRequest, {
          main_key: flags.mainKey,
          subkeys: flags.subkeys,
          payment_request: {
            amount: flags.amount,
            currency: flags.currency,
            invoice: flags.invoice,
            expires_at: String((yield* nowSeconds) + flags.expiresIn),
            ...some("description", flags.description)
          }
        })
        yield* Common.followStarted(client, flags, (yield* client.payments.raw({ payload })).data, "raw")
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Asks a user to pay a caller-made BOLT11 invoice; follows the user's answer.",
      "portal pay raw npub1… --amount 1000 --invoice lnbc10n1…"
    )
  )
)

const recurring = Command.make(
  "recurring",
  {
    ...Common.flags,
    mainKey,
    subkeys: Common.subkeys,
    amount,
    currency,
    description: optionalText("description", "What the subscription is for"),
    calendar: Options.text("calendar").pipe(
      Options.withDefault("monthly"),
      Options.withDescription("A calendar: daily, weekly, monthly… or `Y-M-D h:m:s` (default monthly)")
    ),
    firstDue: Options.text("first-due").pipe(
      Options.optional,
      Options.withDescription("Unix seconds of the first payment (default: now)")
    ),
    maxPayments: Options.integer("max-payments").pipe(Options.optional, Options.withDescription("At most this many")),
    until: optionalText("until", "Unix seconds after which nothing is billed"),
    expiresIn,
    noWait: Common.noWait
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const now = yield* nowSeconds
        const payload = yield* Common.decode(RecurringPaymentRequest, {
          main_key: flags.mainKey,
          subkeys: flags.subkeys,
          payment_request: {
            amount: flags.amount,
            currency: flags.currency,
            ...some("description", flags.description),
            recurrence: {
              calendar: flags.calendar,
              first_payment_due: Option.getOrElse(flags.firstDue, () => String(now)),
              ...some("max_payments", flags.maxPayments),
              ...some("until", flags.until)
            },
            expires_at: String(now + flags.expiresIn)
          }
        })
        yield* Common.followStarted(client, flags, (yield* client.payments.recurring({ payload })).data, "recurring")
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Asks a user to authorise a subscription and prints its id once confirmed; bill periods with `pay single --subscription-id`.",
      "portal pay recurring npub1… --amount 10000 --calendar monthly --max-payments 12"
    )
  )
)

const close = Command.make(
  "close",
  {
    ...Common.flags,
    mainKey,
    subkeys: Common.subkeys,
    subscriptionId: Options.text("subscription-id").pipe(Options.withDescription("The subscription to close"))
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(CloseRecurringPaymentRequest, {
          main_key: flags.mainKey,
          subkeys: flags.subkeys,
          subscription_id: flags.subscriptionId
        })
        const answer = yield* client.payments.closeRecurring({ payload })
        yield* Output.print(flags, answer.data.message, answer.data)
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Tells a user that the service closed a subscription.",
      "portal pay close npub1… --subscription-id sub-1"
    )
  )
)

/** @category commands */
export const pay = Command.make("pay").pipe(
  Command.withDescription(
    Output.help("Payment requests to a user: single, raw, recurring, close.", "portal pay single --help")
  ),
  Command.withSubcommands([single, raw, recurring, close])
)

const invoiceRequest = Command.make(
  "request",
  {
    ...Common.flags,
    recipient,
    subkeys: Common.subkeys,
    amount,
    currency,
    description: optionalText("description", "What the invoice is for"),
    expiresIn,
    noWait: Common.noWait
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(InvoiceRequest, {
          recipient_key: flags.recipient,
          subkeys: flags.subkeys,
          content: {
            amount: flags.amount,
            currency: flags.currency,
            expires_at: String((yield* nowSeconds) + flags.expiresIn),
            ...some("description", flags.description)
          }
        })
        yield* Common.followStarted(client, flags, (yield* client.invoices.request({ payload })).data, "invoice")
      })
    )
).pipe(
  Command.withDescription(
    Output.help("Asks a user for an invoice and prints it.", "portal invoice request npub1… --amount 50000")
  )
)

const invoicePay = Command.make("pay", { ...Common.flags, invoice: Args.text({ name: "bolt11" }) }, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.gen(function* () {
      const payload = yield* Common.decode(PayInvoiceRequest, { invoice: flags.invoice })
      const answer = yield* client.invoices.pay({ payload })
      yield* Output.print(
        flags,
        `paid: preimage ${answer.data.preimage}, fees ${answer.data.fees_paid_msat} msat`,
        answer.data
      )
    })
  )
).pipe(
  Command.withDescription(
    Output.help("Pays a BOLT11 invoice with the daemon's wallet.", "portal invoice pay lnbc10n1…")
  )
)

/** @category commands */
export const invoice = Command.make("invoice").pipe(
  Command.withDescription(Output.help("Invoices: ask a user for one, or pay one.", "portal invoice request --help")),
  Command.withSubcommands([invoiceRequest, invoicePay])
)

const mintUrl = Options.text("mint").pipe(
  Options.withFallbackConfig(Config.string("PORTAL_MINT_URL")),
  Options.withDescription("The mint URL (env PORTAL_MINT_URL)")
)
const unit = Options.text("unit").pipe(
  Options.withDefault("sat"),
  Options.withDescription("The mint unit (default sat)")
)
const tokenFile = Options.file("token-file").pipe(
  Options.optional,
  Options.withDescription("Read the Cashu token from this file (default: stdin)")
)
const staticAuth = Options.redacted("static-auth-token").pipe(
  Options.withFallbackConfig(Config.redacted("PORTAL_MINT_STATIC_AUTH")),
  Options.optional,
  Options.withDescription("The mint's static auth token, when it needs one (env PORTAL_MINT_STATIC_AUTH)")
)
const readToken = (file: Option.Option<string>) =>
  Option.match(file, { onNone: () => Secrets.readStdin("token"), onSome: Secrets.readFile })
const redactedField = (key: string, value: Option.Option<Redacted.Redacted<string>>) =>
  some(key, Option.map(value, Redacted.value))

const cashuRequest = Command.make(
  "request",
  { ...Common.flags, recipient, subkeys: Common.subkeys, mint: mintUrl, unit, amount, noWait: Common.noWait },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(CashuRequest, {
          recipient_key: flags.recipient,
          subkeys: flags.subkeys,
          mint_url: flags.mint,
          unit: flags.unit,
          amount: flags.amount
        })
        yield* Common.followStarted(client, flags, (yield* client.cashu.request({ payload })).data, "cashu")
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Asks a user for Cashu tokens of a mint; the token is printed with --json only.",
      "portal cashu request npub1… --mint http://127.0.0.1:3338 --amount 1 --json"
    )
  )
)

const cashuSend = Command.make("send", { ...Common.flags, mainKey, subkeys: Common.subkeys, tokenFile }, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.gen(function* () {
      const token = yield* readToken(flags.tokenFile)
      const payload = yield* Common.decode(CashuSendDirectRequest, {
        main_key: flags.mainKey,
        subkeys: flags.subkeys,
        token: Redacted.value(token)
      })
      const answer = yield* client.cashu.sendDirect({ payload })
      yield* Output.print(flags, answer.data.message, answer.data)
    })
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Sends a Cashu token (from a file or stdin) to a user.",
      "portal cashu send npub1… --token-file ticket.txt"
    )
  )
)

const cashuMint = Command.make(
  "mint",
  {
    ...Common.flags,
    mint: mintUrl,
    unit,
    amount,
    description: optionalText("description", "A description for the minted token"),
    staticAuth,
    out: Options.file("out").pipe(Options.optional, Options.withDescription("Write the token to this new 0600 file"))
  },
  (flags) =>
    Common.withClient(flags, (client) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(CashuMintRequest, {
          mint_url: flags.mint,
          unit: flags.unit,
          amount: flags.amount,
          ...some("description", flags.description),
          ...redactedField("static_auth_token", flags.staticAuth)
        })
        const minted = (yield* client.cashu.mint({ payload })).data
        if (Option.isSome(flags.out)) yield* Secrets.writeNew(flags.out.value, `${minted.token}\n`)
        yield* Output.print(
          flags,
          Option.match(flags.out, {
            onNone: () => "minted (the token is printed with --json, or written with --out)",
            onSome: (path) => `minted; token written to ${path} (0600)`
          }),
          Option.isSome(flags.out) ? { file: flags.out.value } : minted
        )
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Mints a Cashu token at a mint that issues without payment (static auth).",
      "portal cashu mint --mint http://127.0.0.1:3338 --unit ticket --amount 1 --out ticket.txt"
    )
  )
)

const cashuBurn = Command.make("burn", { ...Common.flags, mint: mintUrl, unit, tokenFile, staticAuth }, (flags) =>
  Common.withClient(flags, (client) =>
    Effect.gen(function* () {
      const token = yield* readToken(flags.tokenFile)
      const payload = yield* Common.decode(CashuBurnRequest, {
        mint_url: flags.mint,
        unit: flags.unit,
        token: Redacted.value(token),
        ...redactedField("static_auth_token", flags.staticAuth)
      })
      const answer = yield* client.cashu.burn({ payload })
      yield* Output.print(flags, `burned: ${answer.data.amount} ${flags.unit}`, answer.data)
    })
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Redeems (burns) a Cashu token at its mint and prints its amount.",
      "portal cashu burn --mint http://127.0.0.1:3338 --unit ticket --token-file ticket.txt"
    )
  )
)

/** @category commands */
export const cashu = Command.make("cashu").pipe(
  Command.withDescription(Output.help("Cashu ecash: request, send, mint, burn.", "portal cashu mint --help")),
  Command.withSubcommands([cashuRequest, cashuSend, cashuMint, cashuBurn])
)
