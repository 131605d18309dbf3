/**
 * The only module importing `@cashu/cashu-ts`. Every call runs in `Effect.tryPromise`/`Effect.try`, failures are
 * mapped by `instanceof` onto `CashuError`, and what comes out is decoded into this package's `Proof`. HTTP goes
 * through cashu-ts' `customRequest`, implemented over `@effect/platform`'s `HttpClient`; it adds the static auth
 * token as the `Clear-auth` header when one is given (how Portal's static-auth mints issue without payment).
 */
import {
  Amount,
  CTSError,
  getEncodedToken,
  getTokenMetadata,
  HttpResponseError,
  JSONInt,
  Mint,
  MintOperationError,
  NetworkError,
  type Proof as CashuTsProof,
  type RequestFn,
  Wallet
} from "@cashu/cashu-ts"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import {
  type CashuError,
  InvalidToken,
  MintRejected,
  MintUnreachable,
  TokenAlreadySpent,
  UnknownUnit
} from "../CashuError.js"
import type { Proof } from "../Token.js"

/** A wallet for one mint and unit (cashu-ts' `Wallet`, kept inside this module). */
export interface Session {
  readonly mintUrl: string
  readonly unit: string
  readonly wallet: Wallet
}

const Proofs = Schema.Array(
  Schema.Struct({
    id: Schema.String,
    amount: Schema.Int.pipe(Schema.positive()),
    secret: Schema.String,
    C: Schema.String,
    dleq: Schema.optional(Schema.Struct({ e: Schema.String, s: Schema.String, r: Schema.optional(Schema.String) }))
  })
)
const decodeProofList = Schema.decodeUnknown(Proofs)

/** A cashu-ts error on its way out of an Effect, to be thrown to cashu-ts as is. */
class Thrown extends Data.TaggedError("Thrown")<{ readonly error: unknown }> {}

/** Our proof as cashu-ts takes it. */
const toCashuTs = (proof: Proof) => ({
  id: proof.id,
  amount: Amount.from(proof.amount),
  secret: proof.secret,
  C: proof.C,
  ...(proof.dleq === undefined
    ? {}
    : { dleq: { e: proof.dleq.e, s: proof.dleq.s, ...(proof.dleq.r === undefined ? {} : { r: proof.dleq.r }) } })
})

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/** Maps a cashu-ts failure of `op` at `mintUrl` onto a `CashuError`. */
export const fromCashuTs =
  (mintUrl: string, op: string, unit = "") =>
  (cause: unknown): CashuError => {
    if (cause instanceof MintOperationError) {
      if (cause.code === 11001) return new TokenAlreadySpent({ mintUrl })
      if (cause.code === 11013) return new UnknownUnit({ mintUrl, unit, available: [] })
      return new MintRejected({ mintUrl, op, code: cause.code, detail: cause.message })
    }
    if (cause instanceof HttpResponseError)
      return new MintUnreachable({ mintUrl, op, detail: `HTTP ${cause.status}: ${cause.message}`, cause })
    if (cause instanceof NetworkError) return new MintUnreachable({ mintUrl, op, detail: cause.message, cause })
    if (cause instanceof CTSError && (op === "receive" || op === "decode"))
      return new InvalidToken({ reason: "Malformed", detail: cause.message })
    return new MintUnreachable({ mintUrl, op, detail: `unexpected answer: ${describe(cause)}`, cause })
  }

const toProofs = (mintUrl: string, op: string, proofs: ReadonlyArray<CashuTsProof>) =>
  Effect.try({
    try: () =>
      proofs.map((proof) => ({
        id: proof.id,
        amount: proof.amount.toNumber(),
        secret: proof.secret,
        C: proof.C,
        ...(proof.dleq === undefined ? {} : { dleq: proof.dleq })
      })),
    catch: (cause) => new MintUnreachable({ mintUrl, op, detail: "amount out of range", cause })
  }).pipe(
    Effect.flatMap(decodeProofList),
    Effect.mapError((error) =>
      error._tag === "ParseError" ? new MintUnreachable({ mintUrl, op, detail: error.message }) : error
    )
  )

/**
 * cashu-ts' request function over `HttpClient`: throws cashu-ts' own errors (`MintOperationError` for a NUT-00
 * error answer, `HttpResponseError`, `NetworkError`), as its default transport does.
 */
export const makeRequest = (options: {
  readonly staticAuthToken?: Redacted.Redacted<string> | undefined
  readonly timeout: Duration.DurationInput
}) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const runtime = yield* Effect.runtime<never>()
    const request: RequestFn = <T>(args: Parameters<RequestFn>[0]) => {
      const effect = Effect.gen(function* () {
        const body = args.requestBody === undefined ? undefined : JSONInt.stringify(args.requestBody)
        const method = (args.method ?? "GET").toUpperCase() === "POST" ? "POST" : "GET"
        let req = HttpClientRequest.make(method)(args.endpoint).pipe(
          HttpClientRequest.setHeaders({ Accept: "application/json", ...args.headers })
        )
        if (options.staticAuthToken !== undefined)
          req = HttpClientRequest.setHeader(req, "Clear-auth", Redacted.value(options.staticAuthToken))
        if (body !== undefined) req = HttpClientRequest.bodyText(req, body, "application/json")
        const response = yield* client
          .execute(req)
          .pipe(Effect.mapError((cause) => new Thrown({ error: new NetworkError(cause.message, { cause }) })))
        const text = yield* response.text.pipe(
          Effect.mapError(
            (cause) => new Thrown({ error: new HttpResponseError("bad response", response.status, { cause }) })
          )
        )
        const parsed = yield* Effect.try({
          try: () => JSONInt.parse(text),
          catch: (cause) => new Thrown({ error: new HttpResponseError("bad response", response.status, { cause }) })
        })
        if (response.status >= 200 && response.status < 300) return parsed as T
        const error = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {}
        if (response.status === 400 && typeof error.code === "number" && typeof error.detail === "string")
          return yield* new Thrown({ error: new MintOperationError(error.code, error.detail) })
        const detail =
          typeof error.detail === "string" ? error.detail : typeof error.error === "string" ? error.error : ""
        return yield* new Thrown({ error: new HttpResponseError(detail || "HTTP request failed", response.status) })
      }).pipe(
        Effect.timeoutFail({
          duration: options.timeout,
          onTimeout: () =>
            new Thrown({ error: new NetworkError(`Request timed out after ${Duration.format(options.timeout)}`) })
        }),
        Effect.scoped
      )
      return Runtime.runPromiseExit(runtime)(effect).then((exit) => {
        if (Exit.isSuccess(exit)) return exit.value
        const failure = Cause.squash(exit.cause)
        throw failure instanceof Thrown ? failure.error : failure
      })
    }
    return request
  })

/** A wallet for `mintUrl` and `unit`, its keys loaded; `UnknownUnit` when the mint has no keyset for `unit`. */
export const open = (mintUrl: string, unit: string, request: RequestFn) =>
  Effect.gen(function* () {
    const mint = new Mint(mintUrl, { customRequest: request })
    const keysets = yield* Effect.tryPromise({
      try: () => mint.getKeySets(),
      catch: fromCashuTs(mintUrl, "keysets", unit)
    })
    const units = [...new Set(keysets.keysets.map((keyset) => keyset.unit))]
    if (!keysets.keysets.some((keyset) => keyset.unit === unit && keyset.active))
      return yield* new UnknownUnit({ mintUrl, unit, available: units })
    const wallet = new Wallet(mint, { unit })
    yield* Effect.tryPromise({ try: () => wallet.loadMint(), catch: fromCashuTs(mintUrl, "load", unit) })
    return { mintUrl, unit, wallet } satisfies Session
  })

/** A NUT-04 bolt11 mint quote (with the description when the mint supports one). */
export const createMintQuote = (session: Session, amount: number, description: string | undefined) =>
  Effect.tryPromise({
    try: () =>
      session.wallet.createMintQuoteBolt11(
        amount,
        description !== undefined && session.wallet.getMintInfo().supportsNut04Description("bolt11", session.unit)
          ? description
          : undefined
      ),
    catch: fromCashuTs(session.mintUrl, "mint quote", session.unit)
  }).pipe(Effect.map((quote) => ({ quote: quote.quote, request: quote.request, state: quote.state })))

/** The state of a mint quote. */
export const checkMintQuote = (session: Session, quote: string) =>
  Effect.tryPromise({
    try: () => session.wallet.checkMintQuoteBolt11(quote),
    catch: fromCashuTs(session.mintUrl, "mint quote check", session.unit)
  }).pipe(Effect.map((checked) => checked.state))

/** Mints `amount` against a paid quote. */
export const mintProofs = (session: Session, amount: number, quote: string) =>
  Effect.tryPromise({
    try: () => session.wallet.mintProofsBolt11(amount, quote),
    catch: fromCashuTs(session.mintUrl, "mint", session.unit)
  }).pipe(Effect.flatMap((proofs) => toProofs(session.mintUrl, "mint", proofs)))

/** Swaps a token's proofs for new ones (the token can never be spent again). */
export const receive = (session: Session, token: string) =>
  Effect.tryPromise({
    try: () => session.wallet.receive(token),
    catch: fromCashuTs(session.mintUrl, "receive", session.unit)
  }).pipe(Effect.flatMap((proofs) => toProofs(session.mintUrl, "receive", proofs)))

/** Splits `proofs` at the mint into exactly `amount` to send and the rest to keep. */
export const send = (session: Session, amount: number, proofs: ReadonlyArray<Proof>) =>
  Effect.tryPromise({
    try: () => session.wallet.send(amount, proofs.map(toCashuTs), { includeFees: true }),
    catch: fromCashuTs(session.mintUrl, "send", session.unit)
  }).pipe(
    Effect.flatMap((result) =>
      Effect.all({
        send: toProofs(session.mintUrl, "send", result.send),
        keep: toProofs(session.mintUrl, "send", result.keep)
      })
    )
  )

/** A token's full proofs (short keyset ids resolved with the mint's keysets). */
export const decodeProofs = (session: Session, token: string) =>
  Effect.try({
    try: () => session.wallet.decodeToken(token).proofs,
    catch: fromCashuTs(session.mintUrl, "decode", session.unit)
  }).pipe(Effect.flatMap((proofs) => toProofs(session.mintUrl, "decode", proofs)))

/** NUT-07 states of proofs, in order. */
export const checkStates = (session: Session, proofs: ReadonlyArray<Proof>) =>
  Effect.tryPromise({
    try: () => session.wallet.checkProofsStates(proofs.map(toCashuTs)),
    catch: fromCashuTs(session.mintUrl, "checkstate", session.unit)
  }).pipe(Effect.map((states) => states.map((state) => state.state)))

/** What a serialized token says, without its mint. */
export const tokenMetadata = (token: string) =>
  Effect.try({
    try: () => {
      const trimmed = token.trim()
      if (!/^cashu[AB]/.test(trimmed)) throw new CTSError("expected a cashuA or cashuB token")
      const meta = getTokenMetadata(trimmed)
      return {
        mintUrl: meta.mint,
        unit: meta.unit,
        amount: meta.amount.toNumber(),
        proofs: meta.incompleteProofs.length,
        ...(meta.memo === undefined ? {} : { memo: meta.memo })
      }
    },
    // the library's message may quote the input, which is bearer money: a fixed text only
    catch: () => new InvalidToken({ reason: "Malformed", detail: "not a valid cashuA/cashuB token" })
  })

/** A `cashuB` token. */
export const encodeToken = (input: {
  readonly mintUrl: string
  readonly unit: string
  readonly proofs: ReadonlyArray<Proof>
  readonly memo?: string | undefined
}) =>
  Effect.sync(() =>
    getEncodedToken({
      mint: input.mintUrl,
      unit: input.unit,
      proofs: input.proofs.map(toCashuTs),
      ...(input.memo === undefined ? {} : { memo: input.memo })
    })
  )
