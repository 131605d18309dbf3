/**
 * The user's ecash (protocol.md §5.10, §10, §20.2): a balance of Cashu proofs per mint and unit, held in memory,
 * that answers Cashu requests (29500) and receives direct tokens (29502), as the Portal app does.
 *
 * - **29500.** If the balance for the request's mint and unit is below `amount`, the answer is `insufficient_funds`
 *   without asking (as the app). Otherwise the caller's policy decides: `Approve` splits exactly `amount` off the
 *   balance at the mint and answers `success{token}`; `Reject` answers `rejected{reason}` (default
 *   `"User denied request"`); a failure while making the token answers `rejected{<error>}`. Each request is answered
 *   at most once (by event id); the app does not check `expires_at`, neither does this. The 29501 goes to the key
 *   that signed the request, p-tagged with it (the service key: Cashu requests carry no subkey proof).
 * - **29502.** Redeemed automatically (swapped at its mint into the balance), no reply; the same event or the same
 *   token twice is received once.
 *
 * A standalone service over `Signer`, `RelayPool`, `Conversations` and `Cashu` (which does the mint calls) from the
 * context. Spends are serialized, so two approvals never use the same proofs.
 *
 * @since 0.1.0
 */
import * as Cashu from "@portal/cashu/Cashu"
import type { CashuError } from "@portal/cashu/CashuError"
import * as Token from "@portal/cashu/Token"
import { BoundedSet } from "@portal/nostr/BoundedSet"
import * as Conversation from "@portal/nostr/Conversation"
import type * as Event from "@portal/nostr/Event"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Kinds from "@portal/protocol/Kinds"
import * as Messages from "@portal/protocol/Messages"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"

/**
 * The reason the app gives when the user declines.
 * @category constants
 */
export const DEFAULT_REJECT_REASON = "User denied request"

/**
 * A Cashu request the balance can cover, handed to the policy.
 * @category models
 */
export interface CashuRequest {
  readonly eventId: string
  /** The key that signed the request (the service). */
  readonly serviceKey: PublicKeyHex
  readonly requestId: string
  readonly mintUrl: string
  readonly unit: string
  readonly amount: number
  readonly expiresAt: number
}

/** @category models */
export type Decision = { readonly _tag: "Approve" } | { readonly _tag: "Reject"; readonly reason?: string | undefined }

/** @category models */
export type Policy = (request: CashuRequest) => Effect.Effect<Decision>

/** Approves every request the balance covers. @category policies */
export const approveAll: Policy = () => Effect.succeed({ _tag: "Approve" })

/** Rejects every request. @category policies */
export const rejectAll =
  (reason?: string): Policy =>
  () =>
    Effect.succeed({ _tag: "Reject", reason })

/**
 * What happened to an incoming message (for callers and tests that watch the wallet work).
 * @category models
 */
export type Activity =
  | { readonly _tag: "Answered"; readonly eventId: string; readonly status: Messages.CashuResponseStatus["_tag"] }
  | { readonly _tag: "Received"; readonly eventId: string; readonly amount: number; readonly unit: string }
  | { readonly _tag: "Failed"; readonly eventId: string; readonly kind: number; readonly detail: string }

/** @category models */
export interface Service {
  /** Listens for 29500 and 29502 until the scope closes; returns once the relays confirmed the subscription. */
  readonly serve: (policy?: Policy) => Effect.Effect<void, never, Scope.Scope>
  /** Receives a token into the balance (what a 29502 does). */
  readonly receive: (token: string) => Effect.Effect<Cashu.Received, CashuError>
  /** The balance of one mint and unit. */
  readonly balance: (mintUrl: string, unit: string) => Effect.Effect<number>
  /** Every non-empty balance. */
  readonly balances: Effect.Effect<ReadonlyArray<Cashu.Balance>>
  /** The balances now, then after every change. */
  readonly changes: Stream.Stream<ReadonlyArray<Cashu.Balance>>
  /** Subscribes now: every answer, receipt and failure from then on, until the scope closes (sliding, 256). */
  readonly activity: Effect.Effect<Stream.Stream<Activity>, never, Scope.Scope>
}

/** @category tags */
export class Ecash extends Context.Tag("@portal/user/Ecash")<Ecash, Service>() {}

/** @category options */
export interface Options {
  /** How long `serve` waits for the relays to confirm its subscription (`EOSE`) (default 2 s). */
  readonly subscribeWait?: Duration.DurationInput
  /** Proofs to start with, per mint and unit. */
  readonly initial?: ReadonlyArray<Purse>
}

/**
 * Proofs of one mint and unit.
 * @category models
 */
export interface Purse {
  readonly mintUrl: string
  readonly unit: string
  readonly proofs: ReadonlyArray<Token.Proof>
}

const keyOf = (mintUrl: string, unit: string) =>
  Effect.map(
    Effect.orElseSucceed(Cashu.normalizeMintUrl(mintUrl), () => mintUrl),
    (url) => ({
      mintUrl: url,
      unit: unit.toLowerCase()
    })
  )

/**
 * Builds the service.
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, never, Signer.Signer | RelayPool.RelayPool | Conversation.Conversations | Cashu.Cashu> =>
  Effect.gen(function* () {
    const signer = yield* Signer.Signer
    const pool = yield* RelayPool.RelayPool
    const conversations = yield* Conversation.Conversations
    const cashu = yield* Cashu.Cashu
    const me = signer.publicKey
    const subscribeWait = Duration.decode(options.subscribeWait ?? "2 seconds")
    const purses = yield* SubscriptionRef.make<ReadonlyArray<Purse>>(options.initial ?? [])
    const spending = yield* Effect.makeSemaphore(1)
    const answered = new BoundedSet<string>(10_000)
    const tokens = new BoundedSet<string>(10_000)
    const hub = yield* PubSub.sliding<Activity>(256)
    const publish = (activity: Activity) => PubSub.publish(hub, activity)

    const toBalances = (list: ReadonlyArray<Purse>): ReadonlyArray<Cashu.Balance> =>
      list
        .map((purse) => ({ mintUrl: purse.mintUrl, unit: purse.unit, amount: Token.sum(purse.proofs) }))
        .filter((b) => b.amount > 0)

    const add = (mintUrl: string, unit: string, proofs: ReadonlyArray<Token.Proof>) =>
      SubscriptionRef.update(purses, (list) => {
        const found = list.find((p) => p.mintUrl === mintUrl && p.unit === unit)
        return found === undefined
          ? [...list, { mintUrl, unit, proofs }]
          : list.map((p) => (p === found ? { ...p, proofs: [...p.proofs, ...proofs] } : p))
      })

    const replace = (mintUrl: string, unit: string, proofs: ReadonlyArray<Token.Proof>) =>
      SubscriptionRef.update(purses, (list) =>
        list.map((p) => (p.mintUrl === mintUrl && p.unit === unit ? { ...p, proofs } : p))
      )

    const proofsOf = (mintUrl: string, unit: string) =>
      Effect.map(
        SubscriptionRef.get(purses),
        (list) => list.find((p) => p.mintUrl === mintUrl && p.unit === unit)?.proofs ?? []
      )

    const balance: Service["balance"] = (mintUrl, unit) =>
      Effect.flatMap(keyOf(mintUrl, unit), (key) => Effect.map(proofsOf(key.mintUrl, key.unit), Token.sum))

    const receive: Service["receive"] = (token) =>
      cashu.receive({ token }).pipe(Effect.tap((received) => add(received.mintUrl, received.unit, received.proofs)))

    /** Decrypts (or takes cleartext JSON, as the reference accepts) and decodes; `None` otherwise. */
    const openContent = <A, I>(event: Event.NostrEvent, schema: Schema.Schema<A, I>) =>
      signer.nip44Decrypt(event.pubkey, event.content).pipe(
        Effect.orElseSucceed(() => event.content),
        Effect.flatMap((text) => Messages.decodeContent(schema, text)),
        Effect.option
      )

    const answer = (
      event: Event.NostrEvent,
      inner: Messages.CashuRequestContent,
      status: Messages.CashuResponseStatus
    ) =>
      Effect.gen(function* () {
        const content = yield* Messages.encodeContent(Messages.CashuResponseContent, {
          request: { inner, mainKey: event.pubkey, recipient: event.pubkey },
          status
        })
        const published = yield* conversations.send({
          kind: Kinds.CashuResponse,
          content,
          recipients: [event.pubkey],
          alsoTag: [event.pubkey]
        })
        if (!published.some(RelayPool.isDelivered)) {
          return yield* publish({
            _tag: "Failed",
            eventId: event.id,
            kind: Kinds.CashuResponse,
            detail: "no relay accepted the response"
          })
        }
        yield* publish({ _tag: "Answered", eventId: event.id, status: status._tag })
      }).pipe(
        Effect.catchAll((error) =>
          publish({ _tag: "Failed", eventId: event.id, kind: Kinds.CashuResponse, detail: error.message })
        )
      )

    /** Makes the token under the spending lock: the proofs used leave the balance, the change stays. */
    const pay = (mintUrl: string, unit: string, amount: number) =>
      spending.withPermits(1)(
        Effect.gen(function* () {
          const proofs = yield* proofsOf(mintUrl, unit)
          if (Token.sum(proofs) < amount) return Option.none<string>()
          const { token, keep } = yield* cashu.send({ mintUrl, unit, amount, proofs })
          yield* replace(mintUrl, unit, keep)
          return Option.some(token)
        })
      )

    const onRequest = (policy: Policy) => (event: Event.NostrEvent) =>
      Effect.gen(function* () {
        const decoded = yield* openContent(event, Messages.CashuRequestContent)
        if (Option.isNone(decoded) || !answered.add(event.id)) return
        const inner = decoded.value
        const key = yield* keyOf(inner.mintUrl, inner.unit)
        if ((yield* balance(key.mintUrl, key.unit)) < inner.amount || inner.amount <= 0) {
          return yield* answer(event, inner, { _tag: "InsufficientFunds" })
        }
        const decision = yield* policy({
          eventId: event.id,
          serviceKey: event.pubkey,
          requestId: inner.requestId,
          mintUrl: key.mintUrl,
          unit: key.unit,
          amount: inner.amount,
          expiresAt: inner.expiresAt
        })
        if (decision._tag === "Reject") {
          return yield* answer(event, inner, {
            _tag: "Rejected",
            reason: Option.some(decision.reason ?? DEFAULT_REJECT_REASON)
          })
        }
        const paid = yield* Effect.either(pay(key.mintUrl, key.unit, inner.amount))
        if (paid._tag === "Left") {
          return yield* answer(event, inner, { _tag: "Rejected", reason: Option.some(paid.left.message) })
        }
        yield* Option.match(paid.right, {
          onNone: () => answer(event, inner, { _tag: "InsufficientFunds" }),
          onSome: (token) => answer(event, inner, { _tag: "Success", token })
        })
      })

    const onDirect = (event: Event.NostrEvent) =>
      Effect.gen(function* () {
        const decoded = yield* openContent(event, Messages.CashuDirectContent)
        if (Option.isNone(decoded) || !answered.add(event.id)) return
        const token = decoded.value.token.trim()
        if (!tokens.add(token)) return
        yield* receive(token).pipe(
          Effect.flatMap((received) =>
            publish({ _tag: "Received", eventId: event.id, amount: received.amount, unit: received.unit })
          ),
          Effect.catchAll((error) =>
            publish({ _tag: "Failed", eventId: event.id, kind: Kinds.CashuDirect, detail: error.message })
          )
        )
      })

    const serve: Service["serve"] = (policy = approveAll) =>
      Effect.gen(function* () {
        const subscription = yield* pool.subscription([{ kinds: [Kinds.CashuRequest, Kinds.CashuDirect], "#p": [me] }])
        yield* subscription.eose.pipe(Effect.timeout(subscribeWait), Effect.ignore)
        const seen = new BoundedSet<string>(10_000)
        yield* subscription.events.pipe(
          Stream.filter((event) => event.pubkey !== me && seen.add(event.id)),
          Stream.runForEach((event) =>
            (event.kind === Kinds.CashuRequest ? onRequest(policy)(event) : onDirect(event)).pipe(
              Effect.catchAllCause((cause) => Effect.logWarning("ecash: message handling failed", cause))
            )
          ),
          Effect.forkScoped
        )
      })

    return Ecash.of({
      serve,
      receive,
      balance,
      balances: Effect.map(SubscriptionRef.get(purses), toBalances),
      changes: Stream.map(purses.changes, toBalances),
      activity: Effect.map(PubSub.subscribe(hub), (queue) => Stream.fromQueue(queue))
    })
  })

/**
 * The service over `Signer`, `RelayPool`, `Conversations` and `Cashu` from the context.
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Ecash, never, Signer.Signer | RelayPool.RelayPool | Conversation.Conversations | Cashu.Cashu> =>
  Layer.effect(Ecash, make(options))
