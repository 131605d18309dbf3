/**
 * Following a stream until its terminal event (rest-api.md §4.5 and the client rule of Appendix A.4): polls
 * `GET /events/{stream_id}?after=<last>` with the typed client, prints each event as it arrives (a human line, or
 * the event's JSON with `--json`), and on a terminal stderr shows a spinner with the elapsed time and the last
 * status while it waits. The outcome decides the exit code: a declined, rejected, failed or timed-out operation is
 * a `CliError`.
 *
 * @since 0.1.0
 */
import type * as Events from "@portal/api/Events"
import * as Keys from "@portal/nostr/Keys"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Output from "./Output.js"
import type * as PortalClient from "./PortalClient.js"

/**
 * What an event means to the command: keep waiting, or stop with success or failure.
 * @category models
 */
export type Verdict = "continue" | "success" | "failure"

/**
 * Which events end which operation.
 * @category models
 */
export type Operation =
  "handshake" | "static-handshake" | "auth" | "single" | "raw" | "recurring" | "invoice" | "cashu" | "any"

/**
 * The verdict of an event for an operation.
 * @category terminal
 */
export const verdict = (operation: Operation, event: Events.StreamEvent): Verdict => {
  switch (event.type) {
    case "error":
      // a reusable handshake URL ends with `closed` once it is closed: its normal end
      return operation === "static-handshake" && event.reason === "closed" ? "success" : "failure"
    case "key_handshake":
      return operation === "static-handshake" ? "continue" : "success"
    case "authenticate_key":
      return event.status.status === "approved" ? "success" : "failure"
    case "recurring_payment_response":
      return event.status.status.status === "confirmed" ? "success" : "failure"
    case "invoice_response":
      return "success"
    case "cashu_response":
      return event.status.status === "success" ? "success" : "failure"
    case "closed_recurring_payment":
      return "continue"
    case "payment_status_update":
      switch (event.status.status) {
        case "user_approved":
          return "continue"
        case "user_success":
          // a single payment is done once the daemon's own monitoring sees it `paid`
          return operation === "single" ? "continue" : "success"
        case "paid":
          return "success"
        default:
          return "failure"
      }
  }
}

/**
 * One human line for an event.
 * @category printing
 */
export const describeEvent = (event: Events.StreamEvent): string => {
  switch (event.type) {
    case "key_handshake":
      return `key ${event.main_key} (${Keys.npub(event.main_key)})${
        event.preferred_relays.length > 0 ? ` relays ${event.preferred_relays.join(", ")}` : ""
      }`
    case "authenticate_key":
      return event.status.status === "approved"
        ? `approved by ${event.user_key} (session token received; --json prints it)`
        : `declined by ${event.user_key}${event.status.reason ? `: ${event.status.reason}` : ""}`
    case "payment_status_update": {
      const status = event.status
      switch (status.status) {
        case "user_approved":
          return "payment approved by the user, waiting for settlement"
        case "user_success":
          return `the user reports the payment sent${status.preimage ? ` (preimage ${status.preimage})` : ""}`
        case "paid":
          return `paid${status.preimage ? ` (preimage ${status.preimage})` : ""}`
        case "timeout":
          return "payment timed out"
        case "user_failed":
          return `the user's payment failed${status.reason ? `: ${status.reason}` : ""}`
        case "user_rejected":
          return `rejected by the user${status.reason ? `: ${status.reason}` : ""}`
        case "error":
          return `payment error: ${status.reason}`
      }
      return "payment status"
    }
    case "recurring_payment_response": {
      const status = event.status.status
      return status.status === "confirmed"
        ? `subscription ${status.subscription_id} confirmed: ${status.authorized_amount} ${status.authorized_currency}, ` +
            `${status.authorized_recurrence.calendar} from ${status.authorized_recurrence.first_payment_due}`
        : `subscription rejected${status.reason ? `: ${status.reason}` : ""}`
    }
    case "invoice_response":
      return `invoice ${event.invoice}${event.payment_hash ? ` (payment hash ${event.payment_hash})` : ""}`
    case "cashu_response":
      return event.status.status === "success"
        ? "Cashu token received (--json prints it)"
        : event.status.status === "insufficient_funds"
          ? "the user has insufficient funds"
          : `Cashu request rejected${event.status.reason ? `: ${event.status.reason}` : ""}`
    case "closed_recurring_payment":
      return `subscription ${event.subscription_id} closed by ${event.main_key}${event.reason ? `: ${event.reason}` : ""}`
    case "error":
      return `error: ${event.reason}`
  }
}

const spinnerSchedule = Schedule.spaced("100 millis")
const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/**
 * Follows `streamId` until an event whose verdict is not `continue` and returns it; fails with `CliError` when
 * that verdict is `failure`. `onEvent` runs for every event (after it is printed).
 * @category following
 */
export const follow = (
  client: PortalClient.Client,
  options: {
    readonly streamId: string
    readonly operation: Operation
    readonly flags: Output.Flags
    readonly interval?: number
    /** Put before each human line. */
    readonly prefix?: string
  }
): Effect.Effect<Events.StreamEvent, Output.CliError | PortalClient.ClientError> =>
  Effect.gen(function* () {
    const { flags, streamId } = options
    const spinner = !flags.json && process.stderr.isTTY === true
    const started = yield* Clock.currentTimeMillis
    let status = "waiting for the first event"
    let frame = 0
    const clear = spinner ? Effect.sync(() => process.stderr.write("\r\u001b[2K")) : Effect.void
    const draw = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.sync(() => {
        frame = (frame + 1) % frames.length
        const elapsed = ((now - started) / 1000).toFixed(1)
        process.stderr.write(`\r\u001b[2K${frames[frame]} ${elapsed}s  ${status}`)
      })
    )
    if (spinner) {
      yield* Effect.addFinalizer(() => clear) // runs after the spinner fiber is interrupted
      yield* Effect.forkScoped(Effect.repeat(draw, { schedule: spinnerSchedule }))
    }

    let after = Option.none<number>()
    while (true) {
      const page = yield* client.events.poll({
        path: { stream_id: streamId },
        urlParams: { after: Option.getOrUndefined(after) }
      })
      for (const event of page.data.events) {
        after = Option.some(event.index)
        status = describeEvent(event)
        yield* clear
        yield* Output.print(flags, `${options.prefix ?? ""}${status}`, event)
        const result = verdict(options.operation, event)
        if (result === "success") return event
        if (result === "failure") return yield* new Output.CliError({ message: status.replace(/^error: /, "") })
      }
      yield* Effect.sleep(options.interval ?? 250)
    }
  }).pipe(Effect.scoped)
