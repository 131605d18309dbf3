/**
 * The two sides of a payment conversation for the user package's tests, on real loopback relays and a real
 * simulated Lightning network: the user (`User` with its own wallet) and a service built directly from
 * `@portal/nostr` `Conversation`, sending what the daemon would send.
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Currency from "@portal/protocol/Currency"
import * as Messages from "@portal/protocol/Messages"
import { Amount, Msat, type PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as NwcWalletService from "@portal/testing/NwcWalletService"
import * as TestRelay from "@portal/testing/TestRelay"
import type * as Recurring from "@portal/user/Recurring"
import * as User from "@portal/user/User"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"

const Deps = Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor)

export const openPool = (relays: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const pool = yield* RelayPool.make({ relays, backoff: { initial: "40 millis" } }).pipe(Effect.provide(Deps))
    yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
    return pool
  })

export const nowSeconds = Effect.map(Clock.currentTimeMillis, (millis) => Math.floor(millis / 1000))

/** A relay, a Lightning network with a funded "user" and a "shop" wallet, the user side and the service side. */
export const setup = (
  options: {
    readonly userBalance?: number
    readonly withWallet?: boolean
    /** Another test's relay, for a second service on it (default: a new relay). */
    readonly relay?: TestRelay.Service
    /** The user's wallet is reached over NWC (a real NIP-47 service on the relay, backed by its simulated wallet). */
    readonly nwc?: boolean
  } = {}
) =>
  Effect.gen(function* () {
    const relay = options.relay ?? (yield* TestRelay.make)
    const network = yield* SimulatedLightning.makeNetwork({
      wallets: { user: options.userBalance ?? 10_000_000, shop: 0 }
    })
    const simulatedUserWallet = yield* network.wallet("user")
    const userWallet = options.nwc
      ? yield* Effect.flatMap(NwcWalletService.make({ relayUrl: relay.url, wallet: simulatedUserWallet }), (service) =>
          Wallet.makeNwc({ url: service.url, pollInterval: "50 millis" })
        )
      : simulatedUserWallet
    const shopWallet = yield* network.wallet("shop")

    const userKeys = yield* Keys.generate
    const userPool = yield* openPool([relay.url])
    const user = yield* User.make({
      subscribeWait: "1 second",
      ...(options.withWallet === false ? {} : { wallet: userWallet })
    }).pipe(
      Effect.provideService(Signer.Signer, yield* Signer.makeLocal(userKeys)),
      Effect.provideService(RelayPool.RelayPool, userPool),
      Effect.provideService(Jwt.Jwt, Jwt.make(userKeys))
    )

    const serviceKeys = yield* Keys.generate
    const servicePool = yield* openPool([relay.url])
    const serviceSigner = yield* Signer.makeLocal(serviceKeys)
    const conversations = yield* Conversation.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, serviceSigner),
      Effect.provideService(RelayPool.RelayPool, servicePool)
    )
    return {
      relay,
      network,
      userWallet,
      shopWallet,
      user,
      userKey: userKeys.publicKey,
      serviceKey: serviceKeys.publicKey,
      servicePool,
      serviceSigner,
      conversations
    }
  })

export type Sides = Effect.Effect.Success<ReturnType<typeof setup>>

export interface SingleOptions {
  readonly amountMsat: number
  /** The invoice's amount (default: `amountMsat`). */
  readonly invoiceMsat?: number
  readonly subscriptionId?: string
  /** Seconds from now (default 300). */
  readonly expiresIn?: number
  /** How long the service waits for the final reply (default 5 s). */
  readonly timeout?: Duration.DurationInput
  readonly currency?: Currency.Currency
  readonly rate?: Currency.ExchangeRate
}

/**
 * What the daemon's single payment does: an invoice from the shop's wallet, one 28000, the 28001 statuses until a
 * final one.
 */
export const requestPayment = (sides: Sides, options: SingleOptions) =>
  Effect.gen(function* () {
    const invoice = yield* sides.shopWallet.makeInvoice({
      amountMsat: Msat.make(options.invoiceMsat ?? options.amountMsat),
      description: "test payment"
    })
    const requestId = randomUUID()
    const now = yield* nowSeconds
    const content = yield* Messages.encodeContent(Messages.SinglePaymentRequest, {
      _tag: "Single",
      amount: Amount.make(options.amountMsat),
      currency: options.currency ?? Currency.millisats,
      currentExchangeRate: Option.fromNullable(options.rate),
      invoice: invoice.bolt11,
      authToken: Option.none(),
      expiresAt: UnixSeconds.make(now + (options.expiresIn ?? 300)),
      subscriptionId: Option.fromNullable(options.subscriptionId),
      description: Option.some("test payment"),
      requestId
    })
    const statuses = yield* sides.conversations
      .request({
        kind: 28000,
        content,
        recipient: sides.userKey,
        replyKinds: [28001],
        reply: Messages.PaymentResponseContent,
        matches: (reply) => reply.requestId === requestId,
        isFinal: (reply) => reply.status._tag !== "Approved",
        timeout: options.timeout ?? "5 seconds"
      })
      .pipe(
        Stream.map((reply) => reply.message.status),
        Stream.runCollect
      )
    return { invoice, requestId, statuses: Chunk.toReadonlyArray(statuses) }
  })

/** The statuses as short strings: `approved`, `success`, `rejected:<reason>`, `failed:<reason>`. */
export const describe = (statuses: ReadonlyArray<Messages.PaymentStatus>): ReadonlyArray<string> =>
  statuses.map((status) => {
    switch (status._tag) {
      case "Approved":
        return "approved"
      case "Success":
        return "success"
      case "Rejected":
        return `rejected:${Option.getOrElse(status.reason, () => "")}`
      case "Failed":
        return `failed:${Option.getOrElse(status.reason, () => "")}`
    }
  })

/** The preimage of the final `success`, if any. */
export const preimageOf = (statuses: ReadonlyArray<Messages.PaymentStatus>): string | undefined => {
  const last = statuses.at(-1)
  return last?._tag === "Success" ? (Option.getOrUndefined(last.preimage) ?? undefined) : undefined
}

/** How an effect ended, as a short string. */
export const outcome = <A, E extends { readonly _tag: string }>(effect: Effect.Effect<A, E>) =>
  Effect.match(effect, {
    onFailure: (error) =>
      "reason" in error && typeof error.reason === "string" ? `${error._tag}(${error.reason})` : error._tag,
    onSuccess: () => "Success"
  })

export type { PublicKeyHex }

/** What the daemon's invoice request does: one 28008, the first 28009 whose echoed request_id matches. */
export const requestInvoice = (
  sides: Sides,
  options: {
    readonly amount: number
    readonly currency?: Currency.Currency
    readonly rate?: Currency.ExchangeRate
    readonly expiresIn?: number
    readonly timeout?: Duration.DurationInput
  }
) =>
  Effect.gen(function* () {
    const requestId = randomUUID()
    const now = yield* nowSeconds
    const content = yield* Messages.encodeContent(Messages.InvoiceRequestContent, {
      requestId,
      amount: Amount.make(options.amount),
      currency: options.currency ?? Currency.millisats,
      currentExchangeRate: Option.fromNullable(options.rate),
      expiresAt: UnixSeconds.make(now + (options.expiresIn ?? 300)),
      description: Option.some("invoice for a refund"),
      refundInvoice: Option.none()
    })
    const reply = yield* sides.conversations.requestOne({
      kind: 28008,
      content,
      recipient: sides.userKey,
      replyKinds: [28009],
      reply: Messages.InvoiceResponse,
      matches: (response) => response.request.inner.requestId === requestId,
      timeout: options.timeout ?? "5 seconds"
    })
    return { requestId, reply }
  })

export interface RecurringOptions {
  readonly amount: number
  /** A calendar expression (default: every second, `*-*-* *:*:*`). */
  readonly calendar?: string
  /** Seconds from now (default 0: due at once). */
  readonly firstDueIn?: number
  readonly maxPayments?: number
  readonly until?: number
}

/** What the daemon's recurring request does: one 28005, the first 28006 with the same request_id. */
export const requestRecurring = (sides: Sides, options: RecurringOptions) =>
  Effect.gen(function* () {
    const requestId = randomUUID()
    const now = yield* nowSeconds
    const recurrence: Messages.RecurrenceInfo = {
      calendar: Messages.NormalizedCalendar.make(options.calendar ?? "*-*-* *:*:*"),
      firstPaymentDue: UnixSeconds.make(now + (options.firstDueIn ?? 0)),
      until: Option.map(Option.fromNullable(options.until), UnixSeconds.make),
      maxPayments: Option.fromNullable(options.maxPayments)
    }
    const content = yield* Messages.encodeContent(Messages.RecurringPaymentRequest, {
      _tag: "Recurring",
      amount: Amount.make(options.amount),
      currency: Currency.millisats,
      recurrence,
      currentExchangeRate: Option.none(),
      expiresAt: UnixSeconds.make(now + 300),
      authToken: Option.none(),
      description: Option.some("monthly plan"),
      requestId
    })
    const reply = yield* sides.conversations.requestOne({
      kind: 28005,
      content,
      recipient: sides.userKey,
      replyKinds: [28006],
      reply: Messages.RecurringPaymentResponseContent,
      matches: (response) => response.requestId === requestId,
      timeout: "5 seconds"
    })
    return { requestId, status: reply.message.status }
  })

/** The subscription id of a confirmed answer (fails the test otherwise). */
export const confirmedId = (status: Messages.RecurringPaymentStatus): string => {
  assert.strictEqual(status._tag, "Confirmed")
  return status._tag === "Confirmed" ? status.subscriptionId : ""
}

/** The service closes a subscription: a 28007 with `by_service:true`, no reply. */
export const serviceClose = (sides: Sides, subscriptionId: string) =>
  Effect.gen(function* () {
    const content = yield* Messages.encodeContent(Messages.CloseRecurringPaymentContent, {
      subscriptionId,
      reason: Option.none(),
      byService: true
    })
    return yield* sides.conversations.send({ kind: 28007, content, recipients: [sides.userKey] })
  })

/** Waits until the user's record of `subscriptionId` satisfies `done` (polling its in-memory state). */
export const awaitSubscription = (
  sides: Sides,
  subscriptionId: string,
  done: (subscription: Recurring.Subscription) => boolean
) =>
  sides.user.subscriptions.pipe(
    Effect.flatMap((all) => {
      const found = all.find((s) => s.subscriptionId === subscriptionId)
      return found !== undefined && done(found) ? Effect.succeed(found) : Effect.fail("pending" as const)
    }),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("5 seconds")
  )

/** Waits for the next second of the clock (the due checks have one-second resolution). */
export const nextSecond = Effect.flatMap(Clock.currentTimeMillis, (millis) =>
  Effect.sleep(`${1000 - (millis % 1000) + 20} millis`)
)
