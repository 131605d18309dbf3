/**
 * Cashu (rest-api.md §3 `/cashu/request`, `/cashu/send-direct`, `/cashu/mint`, `/cashu/burn`; protocol.md §5.10,
 * §10; differences.md §d, §f).
 *
 * - `request`: a 29500 (`request_id` a UUID, `expires_at` now + 300 s) to the recipient and subkeys; the first 29501
 *   whose `request.inner.request_id` matches becomes the stream's `cashu_response` (`success{token}`,
 *   `insufficient_funds` or `rejected{reason}`); no answer by `expires_at`: `error` `"timeout"`. The pending request
 *   is an operation (`cashu_request`), resumed after a restart without re-sending.
 * - `sendDirect`: a 29502 `{token}` to the user and subkeys, fire-and-forget; the token must decode first.
 * - `mint` / `burn`: `@portal/cashu` (static auth, or the quote paid with the daemon's `Wallet`; burned proofs are
 *   kept as the daemon's ecash balance, in the store: `layerProofStore`).
 *
 * @since 0.1.0
 */
import * as CashuService from "@portal/cashu/Cashu"
import { type CashuError, InvalidMintUrl, InvalidToken, ProofStoreFailed } from "@portal/cashu/CashuError"
import * as ProofStore from "@portal/cashu/ProofStore"
import * as Token from "@portal/cashu/Token"
import * as Conversation from "@portal/nostr/Conversation"
import type { EncryptionError, SignerError } from "@portal/nostr/NostrError"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Messages from "@portal/protocol/Messages"
import { type PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import type * as Model from "@portal/store/Model"
import * as Store from "@portal/store/Store"
import type { StoreFailure } from "@portal/store/StoreError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import * as Conversing from "./Conversing.js"
import * as Streams from "./Streams.js"

/**
 * A Cashu unit as the daemon accepts it: `sat`, `msat`, `usd`, `eur`, `auth` or a custom unit such as `ticket`.
 * @category validation
 */
export const UNIT_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/

/**
 * A bad `unit`, or a token that cannot be sent.
 * @category errors
 */
export class InvalidCashuInput extends Schema.TaggedError<InvalidCashuInput>()("InvalidCashuInput", {
  field: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.field}: ${this.detail}`
  }
}

/**
 * No relay took a 29502.
 * @category errors
 */
export class CashuNotDelivered extends Schema.TaggedError<CashuNotDelivered>()("CashuNotDelivered", {
  detail: Schema.String
}) {
  override get message() {
    return `no relay accepted the message: ${this.detail}`
  }
}

/** @category models */
export interface RequestInput {
  readonly recipient: PublicKeyHex
  readonly subkeys: ReadonlyArray<PublicKeyHex>
  readonly mintUrl: string
  readonly unit: string
  readonly amount: number
}

/** @category models */
export interface Service {
  /** Stores and sends a 29500; returns the stream id. */
  readonly request: (input: RequestInput) => Effect.Effect<string, InvalidCashuInput | InvalidMintUrl | StoreFailure>
  /** Sends a 29502 with the token to the user and subkeys. */
  readonly sendDirect: (input: {
    readonly mainKey: PublicKeyHex
    readonly subkeys: ReadonlyArray<PublicKeyHex>
    readonly token: string
  }) => Effect.Effect<void, InvalidToken | CashuNotDelivered | SignerError | EncryptionError>
  /** Mints a token (static auth, or the quote paid with the daemon's wallet). */
  readonly mint: (input: {
    readonly mintUrl: string
    readonly unit: string
    readonly amount: number
    readonly staticAuthToken: Option.Option<Redacted.Redacted<string>>
    readonly description: Option.Option<string>
  }) => Effect.Effect<string, CashuError | InvalidCashuInput>
  /** Burns a token into the daemon's ecash balance; the amount received, in `unit`. */
  readonly burn: (input: {
    readonly mintUrl: string
    readonly unit: string
    readonly token: string
    readonly staticAuthToken: Option.Option<Redacted.Redacted<string>>
  }) => Effect.Effect<number, CashuError | InvalidCashuInput>
}

/** @category tags */
export class Cashu extends Context.Tag("@portal/server/Cashu")<Cashu, Service>() {}

/** @category options */
export interface Options {
  /** Lifetime of a Cashu request (default 300 s, as the reference). */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

const operationKind = "cashu_request"

const Payload = Conversing.Outgoing
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Payload)
const encodeStatus = Schema.encode(Messages.CashuResponseStatus)

const checkUnit = (unit: string) =>
  UNIT_PATTERN.test(unit)
    ? Effect.void
    : Effect.fail(
        new InvalidCashuInput({
          field: "unit",
          detail: `expected a Cashu unit (sat, msat, usd, eur, auth or a custom one: lowercase letters, digits, _ and -), got ${JSON.stringify(unit.slice(0, 40))}`
        })
      )

/**
 * Builds the service and resumes pending requests.
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const streams = yield* Streams.Streams
    const conversations = yield* Conversation.Conversations
    const cashu = yield* CashuService.Cashu
    const timeout = Duration.decode(options.requestTimeout ?? Duration.seconds(300))
    const requests = yield* Conversing.singleReply({
      store,
      streams,
      conversations,
      ownership: yield* Conversing.Ownership,
      kind: operationKind,
      decode: decodePayload,
      replyKinds: [29501],
      reply: Messages.CashuResponseContent,
      matches: (payload, reply) => reply.request.inner.requestId === payload.requestId,
      answer: (_, reply) =>
        Effect.map(encodeStatus(reply.message.status).pipe(Effect.orDie), (status): Model.NewEvent => ({
          type: "cashu_response",
          data: { status }
        })),
      failure: "Failed to request cashu",
      span: "Cashu.run"
    })

    const request: Service["request"] = (input) =>
      Effect.gen(function* () {
        const mintUrl = yield* CashuService.normalizeMintUrl(input.mintUrl)
        yield* checkUnit(input.unit)
        const deadline = DateTime.addDuration(yield* DateTime.now, timeout)
        const requestId = randomUUID()
        const content = yield* Messages.encodeContent(Messages.CashuRequestContent, {
          requestId,
          mintUrl,
          unit: input.unit,
          amount: input.amount,
          expiresAt: UnixSeconds.make(Math.floor(DateTime.toEpochMillis(deadline) / 1000))
        }).pipe(Effect.mapError((e) => new InvalidCashuInput({ field: "amount", detail: e.message })))
        const payload: Payload = {
          mainKey: input.recipient,
          subkeys: input.subkeys.filter((key) => key !== input.recipient),
          kind: 29500,
          content,
          requestId,
          published: false
        }
        return yield* requests.start(payload, deadline)
      }).pipe(Effect.withSpan("Cashu.request"))

    const sendDirect: Service["sendDirect"] = (input) =>
      Effect.gen(function* () {
        yield* Token.decode(input.token)
        const content = yield* Messages.encodeContent(Messages.CashuDirectContent, { token: input.token.trim() }).pipe(
          Effect.orDie
        )
        const results = yield* conversations.send({
          kind: 29502,
          content,
          recipients: [input.mainKey, ...input.subkeys.filter((key) => key !== input.mainKey)]
        })
        if (!results.some(RelayPool.isDelivered)) {
          return yield* new CashuNotDelivered({ detail: `${results.length} event(s) published, none accepted` })
        }
      }).pipe(Effect.withSpan("Cashu.sendDirect"))

    const mint: Service["mint"] = (input) =>
      checkUnit(input.unit).pipe(
        Effect.zipRight(
          cashu.mint({
            mintUrl: input.mintUrl,
            unit: input.unit,
            amount: input.amount,
            staticAuthToken: Option.getOrUndefined(input.staticAuthToken),
            description: Option.getOrUndefined(input.description)
          })
        )
      )

    const burn: Service["burn"] = (input) =>
      checkUnit(input.unit).pipe(
        Effect.zipRight(
          cashu.burn({
            mintUrl: input.mintUrl,
            unit: input.unit,
            token: input.token,
            staticAuthToken: Option.getOrUndefined(input.staticAuthToken)
          })
        ),
        Effect.map((received) => received.amount)
      )

    return Cashu.of({ request, sendDirect, mint, burn })
  })

/** @category layers */
export const layer = (
  options: Options = {}
): Layer.Layer<
  Cashu,
  StoreFailure,
  Store.Store | Streams.Streams | Conversation.Conversations | CashuService.Cashu | Conversing.Ownership
> => Layer.scoped(Cashu, make(options))

// ---- the daemon's ecash balance --------------------------------------------------------------------------------

const balanceKind = "cashu_balance"

const StoredEntry = Schema.Struct({
  mintUrl: Schema.String,
  unit: Schema.String,
  proofs: Schema.Array(Token.Proof),
  receivedAt: Schema.Number
})
const decodeEntry = Schema.decodeUnknown(StoredEntry)
const failed = (cause: unknown) => new ProofStoreFailed({ detail: "the store failed", cause })

/**
 * Burned ecash kept in the store: one record per burn (operation kind `cashu_balance`, no stream, no deadline), so it
 * survives restarts and is shared by instances on one database.
 * @category layers
 */
export const layerProofStore: Layer.Layer<ProofStore.ProofStore, never, Store.Store> = Layer.effect(
  ProofStore.ProofStore,
  Effect.map(Store.Store, (store) => {
    return ProofStore.ProofStore.of({
      add: (entry) =>
        store
          .putOperation({
            kind: balanceKind,
            id: entry.id,
            payload: { mintUrl: entry.mintUrl, unit: entry.unit, proofs: entry.proofs, receivedAt: entry.receivedAt }
          })
          .pipe(Effect.asVoid, Effect.mapError(failed)),
      list: store.listOperations(balanceKind).pipe(
        Effect.mapError(failed),
        Effect.flatMap((operations) =>
          Effect.forEach(operations, (operation) =>
            decodeEntry(operation.payload).pipe(
              Effect.map((entry) => ({ id: operation.id, ...entry })),
              Effect.mapError((cause) => new ProofStoreFailed({ detail: `unreadable entry ${operation.id}`, cause }))
            )
          )
        )
      )
    })
  })
)
