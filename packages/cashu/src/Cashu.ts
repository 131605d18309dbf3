/**
 * Cashu ecash over `@cashu/cashu-ts` (NUT-00..07, 12; bolt11 NUT-04/05/23): mint tokens, burn (redeem) them, move
 * proofs between wallets, read tokens and proof states. HTTP to mints goes through `HttpClient`; a throwaway
 * cashu-ts wallet is opened per call for the mint and unit asked for.
 *
 * - `mint`: a NUT-04 bolt11 quote, then the proofs, as one `cashuB` token. A mint that issues without payment
 *   (Portal's static-auth mints: the `staticAuthToken` goes in the `Clear-auth` header) answers the quote `PAID`;
 *   otherwise the quote's invoice is paid with the `Wallet` in context and the quote polled until the mint sees it.
 * - `burn`: the token is swapped at its mint so it can never be spent again; the new proofs are kept in the
 *   `ProofStore` (the daemon's ecash balance) rather than thrown away, and the amount received is reported in the
 *   token's unit.
 * - `receive` / `send`: a wallet's two moves (swap a token into own proofs; split own proofs into an exact token
 *   and change), used by the user side.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Wallet from "@portal/wallet/Wallet"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { randomUUID } from "node:crypto"
import { type CashuError, InsufficientEcash, InvalidMintUrl, InvalidToken, MintQuoteUnpaid } from "./CashuError.js"
import * as CashuTs from "./internal/cashuTs.js"
import * as ProofStore from "./ProofStore.js"
import * as Token from "./Token.js"

/** @category models */
export interface MintInput {
  readonly mintUrl: string
  readonly unit: string
  /** In `unit`. */
  readonly amount: number
  /** Portal static-auth mints issue without payment to holders of this token. */
  readonly staticAuthToken?: Redacted.Redacted<string> | undefined
  /** The quote's description (when the mint supports one) and the token's memo. */
  readonly description?: string | undefined
}

/** @category models */
export interface BurnInput {
  readonly mintUrl: string
  readonly unit: string
  /** Bearer money: never logged. */
  readonly token: string
  readonly staticAuthToken?: Redacted.Redacted<string> | undefined
}

/** @category models */
export interface Received {
  readonly mintUrl: string
  readonly unit: string
  /** The new proofs, after the mint's input fees. */
  readonly proofs: ReadonlyArray<Token.Proof>
  readonly amount: number
}

/** @category models */
export interface Balance {
  readonly mintUrl: string
  readonly unit: string
  readonly amount: number
}

/** @category models */
export type ProofState = "UNSPENT" | "PENDING" | "SPENT"

/** @category models */
export interface Service {
  /** Mints `amount` `unit` and returns it as a `cashuB` token. */
  readonly mint: (input: MintInput) => Effect.Effect<string, CashuError>
  /** Redeems a token at `mintUrl` (it must be of that mint and unit) into the ecash balance; the amount received. */
  readonly burn: (input: BurnInput) => Effect.Effect<Received, CashuError>
  /** Swaps a token at its mint for new proofs (checked against `mintUrl`/`unit` when given). */
  readonly receive: (input: {
    readonly token: string
    readonly mintUrl?: string | undefined
    readonly unit?: string | undefined
  }) => Effect.Effect<Received, CashuError>
  /** Splits `proofs` at their mint into a token of exactly `amount` and the proofs to keep. */
  readonly send: (input: {
    readonly mintUrl: string
    readonly unit: string
    readonly amount: number
    readonly proofs: ReadonlyArray<Token.Proof>
    readonly memo?: string | undefined
  }) => Effect.Effect<{ readonly token: string; readonly keep: ReadonlyArray<Token.Proof> }, CashuError>
  /** NUT-07 states of a token's proofs, asked of its mint. */
  readonly checkStates: (token: string) => Effect.Effect<ReadonlyArray<ProofState>, CashuError>
  /** The ecash balance kept from burns, per mint and unit. */
  readonly balance: Effect.Effect<ReadonlyArray<Balance>, CashuError>
}

/** @category tags */
export class Cashu extends Context.Tag("@portal/cashu/Cashu")<Cashu, Service>() {}

/** @category options */
export interface Options {
  /** Per HTTP request to a mint (default 10 s). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** How long a paid quote may take to show `PAID` at the mint (default 30 s). */
  readonly quotePaidTimeout?: Duration.DurationInput | undefined
}

/**
 * A mint URL as cashu-ts and tokens write it: `http(s)://host[:port][/path]`, without a trailing slash.
 * @category urls
 */
export const normalizeMintUrl = (mintUrl: string): Effect.Effect<string, InvalidMintUrl> =>
  Effect.suspend(() => {
    if (!URL.canParse(mintUrl)) return Effect.fail(new InvalidMintUrl({ mintUrl }))
    const url = new URL(mintUrl)
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username !== "" || url.password !== "")
      return Effect.fail(new InvalidMintUrl({ mintUrl }))
    url.search = ""
    url.hash = ""
    return Effect.succeed(url.href.replace(/\/+$/, ""))
  })

const sameMint = (a: string, b: string) =>
  Effect.orElseSucceed(
    Effect.zipWith(normalizeMintUrl(a), normalizeMintUrl(b), (x, y) => x === y),
    () => false
  )

/**
 * Builds the service.
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const wallet = yield* Wallet.Wallet
    const store = yield* ProofStore.ProofStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const requestTimeout = options.requestTimeout ?? Duration.seconds(10)
    const quotePaidTimeout = options.quotePaidTimeout ?? Duration.seconds(30)

    const session = (mintUrl: string, unit: string, staticAuthToken?: Redacted.Redacted<string>) =>
      Effect.gen(function* () {
        const url = yield* normalizeMintUrl(mintUrl)
        const request = yield* CashuTs.makeRequest({ staticAuthToken, timeout: requestTimeout })
        return yield* CashuTs.open(url, unit, request)
      }).pipe(Effect.provide(context))

    const payQuote = (open: CashuTs.Session, quote: string, invoice: string) =>
      Effect.gen(function* () {
        yield* wallet.payInvoice(invoice).pipe(
          Effect.mapError(
            (error) =>
              new MintQuoteUnpaid({
                mintUrl: open.mintUrl,
                reason: error._tag === "WalletNotConfigured" ? "NoWallet" : "PaymentFailed",
                detail: error.message
              })
          )
        )
        yield* CashuTs.checkMintQuote(open, quote).pipe(
          Effect.repeat({
            schedule: Schedule.spaced("100 millis"),
            until: (state) => state !== "UNPAID"
          }),
          Effect.timeoutFail({
            duration: quotePaidTimeout,
            onTimeout: () =>
              new MintQuoteUnpaid({
                mintUrl: open.mintUrl,
                reason: "NotPaid",
                detail: `the invoice was paid but the quote is not PAID after ${Duration.format(quotePaidTimeout)}`
              })
          })
        )
      })

    const mint: Service["mint"] = (input) =>
      Effect.gen(function* () {
        const open = yield* session(input.mintUrl, input.unit, input.staticAuthToken)
        const quote = yield* CashuTs.createMintQuote(open, input.amount, input.description)
        if (quote.state === "UNPAID") yield* payQuote(open, quote.quote, quote.request)
        const proofs = yield* CashuTs.mintProofs(open, input.amount, quote.quote)
        return yield* Token.encode({ mintUrl: open.mintUrl, unit: open.unit, proofs, memo: input.description })
      }).pipe(Effect.withSpan("Cashu.mint", { attributes: { unit: input.unit, amount: input.amount } }))

    const receiveWith = (
      input: { readonly token: string; readonly mintUrl?: string | undefined; readonly unit?: string | undefined },
      staticAuthToken?: Redacted.Redacted<string>
    ) =>
      Effect.gen(function* () {
        const info = yield* Token.decode(input.token)
        if (info.proofs === 0 || info.amount === 0)
          return yield* new InvalidToken({ reason: "Empty", detail: "no proofs" })
        if (input.mintUrl !== undefined && !(yield* sameMint(info.mintUrl, input.mintUrl)))
          return yield* new InvalidToken({
            reason: "MintMismatch",
            detail: `the token is of mint ${info.mintUrl}, not ${input.mintUrl}`
          })
        const unit = info.unit === "" ? "sat" : info.unit
        if (input.unit !== undefined && unit !== input.unit)
          return yield* new InvalidToken({
            reason: "UnitMismatch",
            detail: `the token is in unit ${unit}, not ${input.unit}`
          })
        const open = yield* session(input.mintUrl ?? info.mintUrl, unit, staticAuthToken)
        const proofs = yield* CashuTs.receive(open, input.token.trim())
        return { mintUrl: open.mintUrl, unit, proofs, amount: Token.sum(proofs) } satisfies Received
      })

    const keep = (received: Received) =>
      Effect.gen(function* () {
        const receivedAt = yield* Clock.currentTimeMillis
        yield* store
          .add({
            id: randomUUID(),
            mintUrl: received.mintUrl,
            unit: received.unit,
            proofs: received.proofs,
            receivedAt
          })
          .pipe(Effect.retry(Schedule.intersect(Schedule.exponential("50 millis"), Schedule.recurs(5))))
      })

    const burn: Service["burn"] = (input) =>
      receiveWith(input, input.staticAuthToken).pipe(
        Effect.tap(keep),
        Effect.withSpan("Cashu.burn", { attributes: { unit: input.unit } })
      )

    const receive: Service["receive"] = (input) => receiveWith(input).pipe(Effect.withSpan("Cashu.receive"))

    const send: Service["send"] = (input) =>
      Effect.gen(function* () {
        const available = Token.sum(input.proofs)
        if (available < input.amount)
          return yield* new InsufficientEcash({ unit: input.unit, needed: input.amount, available })
        const open = yield* session(input.mintUrl, input.unit)
        const split = yield* CashuTs.send(open, input.amount, input.proofs)
        const token = yield* Token.encode({
          mintUrl: open.mintUrl,
          unit: open.unit,
          proofs: split.send,
          memo: input.memo
        })
        return { token, keep: split.keep }
      }).pipe(Effect.withSpan("Cashu.send", { attributes: { unit: input.unit, amount: input.amount } }))

    const checkStates: Service["checkStates"] = (token) =>
      Effect.gen(function* () {
        const info = yield* Token.decode(token)
        const open = yield* session(info.mintUrl, info.unit === "" ? "sat" : info.unit)
        const proofs = yield* CashuTs.decodeProofs(open, token.trim())
        return yield* CashuTs.checkStates(open, proofs)
      })

    const balance: Service["balance"] = Effect.map(store.list, (entries) => {
      const totals = new Map<string, Balance>()
      for (const entry of entries) {
        const key = `${entry.mintUrl} ${entry.unit}`
        const previous = totals.get(key)?.amount ?? 0
        totals.set(key, { mintUrl: entry.mintUrl, unit: entry.unit, amount: previous + Token.sum(entry.proofs) })
      }
      return [...totals.values()]
    })

    return Cashu.of({ mint, burn, receive, send, checkStates, balance })
  })

/**
 * The service over `HttpClient`, the `Wallet` that pays mint quotes and the `ProofStore` that keeps burned ecash.
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Cashu, never, HttpClient.HttpClient | Wallet.Wallet | ProofStore.ProofStore> =>
  Layer.effect(Cashu, make(options))
