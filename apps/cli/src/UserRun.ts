/**
 * The implementation of `portal user` (see `Commands/User.ts`), loaded only when that command runs: the user's side
 * pulls in the relay pool, wallets and ecash, which the other commands never need.
 *
 * @since 0.1.0
 */
import * as Prompt from "@effect/cli/Prompt"
import * as Keys from "@portal/nostr/Keys"
import * as HandshakeUrl from "@portal/protocol/HandshakeUrl"
import * as Auth from "@portal/user/Auth"
import * as Ecash from "@portal/user/Ecash"
import * as Invoices from "@portal/user/Invoices"
import * as Payments from "@portal/user/Payments"
import * as Recurring from "@portal/user/Recurring"
import * as Currency from "@portal/protocol/Currency"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Output from "./Output.js"
import * as UserSide from "./UserSide.js"

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
  readonly kind: "auth" | "payment" | "subscription" | "invoice" | "cashu"
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

/** An amount as the user reads it. */
const amountText = (amount: number, currency: Currency.Currency): string =>
  currency._tag === "Millisats" ? `${amount} msat` : `${(amount / 100).toFixed(2)} ${currency.code}`

/** A fiat amount with what it costs in msat. */
const withMsat = (amount: string, currency: Currency.Currency, msat: number): string =>
  currency._tag === "Millisats" ? amount : `${amount} (${msat} msat)`

const optionalText = (label: string, value: Option.Option<string>) =>
  Option.match(value, { onNone: () => "", onSome: (v) => ` ${label} "${v}"` })

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
  readonly nwcUrl: Option.Option<Redacted.Redacted<string>>
}) =>
  Effect.gen(function* () {
    const { flags } = options
    const url = yield* HandshakeUrl.parse(options.url).pipe(
      Effect.mapError((e) => new Output.CliError({ message: `portal URL: ${e.message}`, exitCode: 2 }))
    )
    const keys = yield* Keys.fromSecret(options.secretKey)
    const relays = options.relays.length > 0 ? options.relays : url.relays
    const { ecash, user } = yield* UserSide.make({
      secretKey: options.secretKey,
      relays,
      wallet: Option.match(options.nwcUrl, { onNone: () => UserSide.noWallet, onSome: UserSide.nwcWallet })
    })
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
    const report = (kind: Request["kind"], line: string, data: Record<string, unknown>) =>
      Effect.zipRight(Output.print(flags, line, { type: kind, ...data }), counted)
    /** Answers every request of a stream, one failure never stopping the others. */
    const answerAll = <A>(
      what: string,
      requests: Effect.Effect<Stream.Stream<A>, never, Scope.Scope>,
      answer: (request: A) => Effect.Effect<void, unknown>
    ) =>
      Effect.flatMap(requests, (stream) =>
        Effect.forkScoped(
          Stream.runForEach(stream, (request) =>
            answer(request).pipe(
              Effect.catchAll((error) => Output.note(flags, `could not answer a ${what}: ${Output.describe(error)}`))
            )
          )
        )
      )

    yield* answerAll("login request", user.subscribeAuthChallenges, (challenge) =>
      Effect.gen(function* () {
        const from = Keys.npub(challenge.serviceKey)
        const approve = yield* decide({ kind: "auth", from, what: "Login request" })
        yield* user.respond(challenge, approve ? Auth.approve() : Auth.decline())
        yield* report("auth", `${approve ? "approved" : "declined"} login request from ${from}`, {
          service_key: challenge.serviceKey,
          decision: approve ? "approved" : "declined"
        })
      })
    )

    yield* answerAll("payment request", user.subscribePaymentRequests, (request) =>
      Effect.gen(function* () {
        const from = Keys.npub(request.serviceKey)
        const amount = amountText(request.amount, request.currency)
        // billed periods of an authorised subscription are paid without asking (the subscription's checks decide)
        const approve = Option.isSome(request.subscriptionId)
          ? true
          : yield* decide({
              kind: "payment",
              from,
              what: `Payment request: ${withMsat(amount, request.currency, request.amountMsat)}${optionalText("for", request.description)}`
            })
        const outcome = yield* user.respondPayment(request, approve ? Payments.approve : Payments.reject())
        const period = Option.match(request.subscriptionId, {
          onNone: () => "",
          onSome: (id) => ` (subscription ${id})`
        })
        const line =
          outcome._tag === "Paid"
            ? `paid ${amount}${period} to ${from}`
            : outcome._tag === "Failed"
              ? `payment of ${amount}${period} failed: ${outcome.reason}`
              : `rejected payment of ${amount}${period}: ${outcome.reason}`
        yield* report("payment", line, {
          service_key: request.serviceKey,
          amount_msat: request.amountMsat,
          subscription_id: Option.getOrNull(request.subscriptionId),
          decision: outcome._tag === "Paid" ? "paid" : outcome._tag === "Failed" ? "failed" : "rejected"
        })
      })
    )

    yield* answerAll("subscription request", user.subscribeRecurringRequests, (request) =>
      Effect.gen(function* () {
        const from = Keys.npub(request.serviceKey)
        const amount = amountText(request.amount, request.currency)
        const approve = yield* decide({
          kind: "subscription",
          from,
          what: `Subscription request: ${amount} ${request.recurrence.calendar}${optionalText("for", request.description)}`
        })
        const sent = yield* user.respondRecurring(request, approve ? Recurring.authorize : Recurring.reject())
        const id = Option.getOrNull(Option.map(sent.subscription, (s) => s.subscriptionId))
        yield* report(
          "subscription",
          approve ? `authorised subscription ${id} (${amount})` : "rejected a subscription",
          {
            service_key: request.serviceKey,
            subscription_id: id,
            decision: approve ? "authorized" : "rejected"
          }
        )
      })
    )

    yield* answerAll("invoice request", user.subscribeInvoiceRequests, (request) =>
      Effect.gen(function* () {
        const from = Keys.npub(request.requester)
        const amount = amountText(request.amount, request.currency)
        const approve = yield* decide({
          kind: "invoice",
          from,
          what: `Invoice request: ${withMsat(amount, request.currency, request.amountMsat)}`
        })
        if (approve) yield* user.respondInvoice(request, Invoices.issue())
        yield* report(
          "invoice",
          approve ? `sent an invoice for ${amount}` : "ignored an invoice request (no refusal exists)",
          {
            requester: request.requester,
            decision: approve ? "issued" : "ignored"
          }
        )
      })
    )

    yield* (yield* ecash.activity).pipe(
      Stream.runForEach((activity) =>
        activity._tag === "Answered"
          ? report("cashu", `answered a Cashu request: ${activity.status}`, { decision: activity.status })
          : activity._tag === "Received"
            ? Output.print(flags, `received ${activity.amount} ${activity.unit} (Cashu)`, {
                type: "cashu_received",
                amount: activity.amount,
                unit: activity.unit
              })
            : Output.note(flags, `Cashu: ${activity.detail}`)
      ),
      Effect.forkScoped
    )

    yield* ecash.serve((request) =>
      Effect.map(
        decide({
          kind: "cashu",
          from: Keys.npub(request.serviceKey),
          what: `Cashu request: ${request.amount} ${request.unit} from ${request.mintUrl}`
        }),
        (approve): Ecash.Decision => (approve ? { _tag: "Approve" } : { _tag: "Reject" })
      )
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
