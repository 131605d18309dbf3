/**
 * `portal sandbox --demo`: plays the user in this process (`@portal/user` with its own key and relay pool, paying
 * from the sandbox's funded user wallet) and runs the whole story against the sandbox daemon through the typed
 * client, printing each step as it happens: login with Portal (handshake, then an auth challenge approved), a single
 * payment, a subscription with two billed periods, a ticket minted, sent and burned.
 *
 * A step whose daemon route is not served is printed as skipped with the reason (the daemon's `501`); it never
 * counts as success. The demo fails (exit 1) when a step that ran failed.
 *
 * The subscription uses a calendar of every second (`*-*-* *:*:*`) and `max_payments` 2, so that its two periods
 * are due within the demo; the daemon bills them itself and the demo follows the fixed `recurring-payment-billing`
 * stream until both are paid, then closes the subscription.
 *
 * @since 0.1.0
 */
import { CashuBurnRequest, CashuMintRequest, CashuRequest, CashuSendDirectRequest } from "@portal/api/CashuApi"
import { recurringPaymentBillingStreamId } from "@portal/api/EventsApi"
import { RecurringPaymentRequest, SinglePaymentRequest } from "@portal/api/PaymentsApi"
import * as Keys from "@portal/nostr/Keys"
import * as Auth from "@portal/user/Auth"
import * as Ecash from "@portal/user/Ecash"
import * as Invoices from "@portal/user/Invoices"
import * as Payments from "@portal/user/Payments"
import * as Recurring from "@portal/user/Recurring"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Common from "./Commands/Common.js"
import * as Follow from "./Follow.js"
import * as Output from "./Output.js"
import * as PortalClient from "./PortalClient.js"
import type * as Sandbox from "./Sandbox.js"
import * as UserSide from "./UserSide.js"

/** A step that could not run, with the reason. */
class Skipped extends Data.TaggedError("Skipped")<{ readonly reason: string }> {}

/**
 * Runs the story; fails with `CliError` when a step that ran failed.
 * @category running
 */
export const run = (sandbox: Sandbox.Sandbox, flags: Output.Flags) =>
  Effect.gen(function* () {
    const client = yield* PortalClient.make({ url: sandbox.url, token: Option.some(sandbox.token) })
    const userKeys = yield* Keys.generate
    const { ecash, user } = yield* UserSide.make({
      secretKey: Keys.secretHex(userKeys),
      relays: [sandbox.relayUrl],
      wallet: UserSide.existingWallet(yield* sandbox.network.wallet("user"))
    })
    yield* user.listen({
      auth: Auth.approveAll,
      payment: Payments.approveAll,
      recurring: Recurring.authorizeAll,
      invoice: Invoices.issueAll
    })
    yield* ecash.serve(Ecash.approveAll)
    const mainKey = userKeys.publicKey
    const say = (line: string) => (flags.json ? Effect.void : Console.log(line))
    const results: Array<{ step: string; result: "ok" | "skipped" | "failed"; detail: string }> = []
    const balance = sandbox.network.balanceOf("user")

    const step = <E>(index: number, title: string, body: Effect.Effect<string, E | Skipped>) =>
      Effect.gen(function* () {
        yield* say(`\n[${index}/4] ${title}`)
        const outcome = yield* Effect.either(body)
        if (outcome._tag === "Right") {
          results.push({ step: title, result: "ok", detail: outcome.right })
          yield* say(`  ✔ ${outcome.right}`)
          return
        }
        const error = outcome.left
        if (error instanceof Skipped || Predicate.isTagged(error, "NotImplemented")) {
          const reason =
            error instanceof Skipped ? error.reason : `the daemon does not serve it yet (${Output.describe(error)})`
          results.push({ step: title, result: "skipped", detail: reason })
          yield* say(`  ↷ skipped: ${reason}`)
          return
        }
        const detail = Output.describe(error)
        results.push({ step: title, result: "failed", detail })
        yield* say(`  ✘ failed: ${detail}`)
      })

    const follow = (streamId: string, operation: Follow.Operation) =>
      Follow.follow(client, { streamId, operation, flags, prefix: "    " })
    const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

    /** A single payment request (a billed period when `subscriptionId` is given), followed until paid. */
    const charge = (amount: number, description: string, subscriptionId?: string) =>
      Effect.gen(function* () {
        const payload = yield* Common.decode(SinglePaymentRequest, {
          main_key: mainKey,
          payment_request: {
            amount,
            currency: "Millisats",
            description,
            ...(subscriptionId === undefined ? {} : { subscription_id: subscriptionId })
          }
        })
        const started = (yield* client.payments.single({ payload })).data
        return yield* follow(started.stream_id, "single")
      })

    /** Follows the daemon's billing stream until `count` periods of the subscription were paid (fails on another end). */
    const billedPeriods = (subscriptionId: string, count: number) =>
      Effect.gen(function* () {
        let after = Option.none<number>()
        let paid = 0
        while (paid < count) {
          const page = yield* client.events.poll({
            path: { stream_id: recurringPaymentBillingStreamId },
            urlParams: { after: Option.getOrUndefined(after) }
          })
          for (const event of page.data.events) {
            after = Option.some(event.index)
            if (event.type !== "payment_status_update" || event.subscription_id !== subscriptionId) continue
            const status = event.status.status
            if (status === "requested") {
              yield* say(`    daemon: billed period ${paid + 1} (${event.stream_id ?? "?"})`)
            } else if (status === "paid") {
              paid += 1
              yield* say(`    daemon: period ${paid} paid`)
            } else {
              return yield* new Output.CliError({ message: `a billed period ended ${status}` })
            }
          }
          if (paid < count) yield* Effect.sleep("250 millis")
        }
      })

    yield* say(`Sandbox demo: the user is ${Keys.npub(mainKey)}, with ${yield* balance} msat in a simulated wallet`)

    yield* step(
      1,
      "Login with Portal",
      Effect.gen(function* () {
        const handshake = (yield* client.keys.keyHandshake({
          payload: { static_token: Option.none(), no_request: false }
        })).data
        yield* say(`  service: handshake URL ${handshake.url}`)
        yield* user.handshake(handshake.url)
        yield* say("  user: opened the URL")
        yield* follow(handshake.stream_id, "handshake")
        yield* say("  service: auth challenge to that key")
        const auth = (yield* client.keys.authenticateKey({ payload: { main_key: mainKey, subkeys: [] } })).data
        yield* follow(auth.stream_id, "auth")
        return "logged in"
      })
    )

    yield* step(
      2,
      "A single payment",
      Effect.gen(function* () {
        const before = yield* balance
        yield* say("  service: asks 21000 msat for a coffee")
        yield* charge(21_000, "Coffee")
        return `paid; the user's wallet went from ${before} to ${yield* balance} msat`
      })
    )

    yield* step(
      3,
      "A subscription with two billed periods",
      Effect.gen(function* () {
        const now = yield* nowSeconds
        yield* say("  service: asks to authorise 10000 msat every second (a demo calendar)")
        const payload = yield* Common.decode(RecurringPaymentRequest, {
          main_key: mainKey,
          payment_request: {
            amount: 10_000,
            currency: "Millisats",
            description: "Demo subscription",
            recurrence: { calendar: "*-*-* *:*:*", first_payment_due: String(now), max_payments: 2 },
            expires_at: String(now + 300)
          }
        })
        const started = (yield* client.payments.recurring({ payload })).data
        const confirmed = yield* follow(started.stream_id, "recurring")
        if (confirmed.type !== "recurring_payment_response" || confirmed.status.status.status !== "confirmed") {
          return yield* new Output.CliError({ message: "the subscription was not confirmed" })
        }
        const subscriptionId = confirmed.status.status.subscription_id
        yield* say("  service: the daemon bills each period itself; following the recurring-payment-billing stream")
        yield* billedPeriods(subscriptionId, 2).pipe(
          Effect.timeoutFail({
            duration: "60 seconds",
            onTimeout: () => new Output.CliError({ message: "the daemon did not bill two periods within 60 s" })
          })
        )
        yield* client.payments.closeRecurring({
          payload: { main_key: mainKey, subkeys: [], subscription_id: subscriptionId }
        })
        yield* say("  service: closed the subscription")
        return `subscription ${subscriptionId}: two periods billed and paid, then closed`
      })
    )

    yield* step(
      4,
      "A ticket minted, sent and burned",
      Effect.gen(function* () {
        if (Option.isNone(sandbox.mintUrl)) return yield* new Skipped({ reason: "the sandbox has no Cashu mint" })
        const mint = { mint_url: sandbox.mintUrl.value, unit: "ticket" }
        yield* say("  service: mints a concert ticket at the test mint (static auth)")
        const minted = (yield* client.cashu.mint({
          payload: yield* Common.decode(CashuMintRequest, {
            ...mint,
            amount: 1,
            description: "Concert ticket",
            static_auth_token: Redacted.value(sandbox.mintStaticAuth)
          })
        })).data
        yield* say("  service: sends it to the user")
        yield* client.cashu.sendDirect({
          payload: yield* Common.decode(CashuSendDirectRequest, { main_key: mainKey, token: minted.token })
        })
        yield* ecash.changes.pipe(
          Stream.filter((balances) => balances.some((b) => b.unit === "ticket" && b.amount >= 1)),
          Stream.take(1),
          Stream.runDrain,
          Effect.timeoutFail({
            duration: "30 seconds",
            onTimeout: () => new Output.CliError({ message: "the ticket never reached the user" })
          })
        )
        yield* say("  user: holds 1 ticket")
        yield* say("  service: asks the user to show the ticket at the door")
        const requested = (yield* client.cashu.request({
          payload: yield* Common.decode(CashuRequest, { recipient_key: mainKey, ...mint, amount: 1 })
        })).data
        const answer = yield* follow(requested.stream_id, "cashu")
        if (answer.type !== "cashu_response" || answer.status.status !== "success") {
          return yield* new Output.CliError({ message: "the user did not hand over the ticket" })
        }
        const burned = (yield* client.cashu.burn({
          payload: yield* Common.decode(CashuBurnRequest, {
            ...mint,
            token: answer.status.token,
            static_auth_token: Redacted.value(sandbox.mintStaticAuth)
          })
        })).data
        return `ticket burned at the mint (${burned.amount} ticket); the user has ${yield* ecash.balance(mint.mint_url, "ticket")} left`
      })
    )

    if (flags.json) yield* Console.log(JSON.stringify({ demo: results }))
    const failed = results.filter((r) => r.result === "failed")
    const skipped = results.filter((r) => r.result === "skipped").length
    yield* say(
      `\nDemo finished: ${results.length - failed.length - skipped} done, ${skipped} skipped, ${failed.length} failed`
    )
    if (failed.length > 0) {
      return yield* new Output.CliError({ message: `demo step failed: ${failed[0]!.step}: ${failed[0]!.detail}` })
    }
  }).pipe(Effect.scoped)
