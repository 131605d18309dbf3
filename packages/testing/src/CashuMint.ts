/**
 * A Cashu mint on loopback for tests and the sandbox: **not for production** (keys live in memory, nothing is
 * persisted beyond the mint's lifetime, DLEQ proofs are not constant time). It speaks the Cashu HTTP protocol for
 * real, on `node:http` bound to 127.0.0.1 on a random port, with cashu-ts' mint-side crypto (keyset generation,
 * blind signatures `C_ = k·B_`, DLEQ proofs):
 *
 * - NUT-00/01/02: keysets per unit (`sat` by default, any custom unit such as `ticket`), `GET /v1/keys`,
 *   `/v1/keys/{id}`, `/v1/keysets`; an optional `input_fee_ppk`; `rotateKeyset` leaves an inactive keyset behind.
 * - NUT-03 `POST /v1/swap`: every input is verified (`C == k·hash_to_curve(secret)`), spent secrets are kept by
 *   `Y = hash_to_curve(secret)` for the mint's lifetime, so a second spend fails with 11001; duplicates (11007,
 *   11008), unbalanced (11005), unknown/inactive keysets (12001/12002), mixed units (11010).
 * - NUT-04/05/23 bolt11 minting and melting settled on the `@portal/wallet` simulated Lightning network: a mint
 *   quote is a real BOLT11 invoice of the mint's simulated wallet and becomes `PAID` when that invoice settles; a
 *   melt pays the quote's invoice from the mint's wallet and returns NUT-08 change for the unused fee reserve.
 * - Static-auth issuance (Portal's ticket mints): with `staticAuthToken` set, a mint quote requested with the
 *   header `Clear-auth: <token>` is issued without payment (`PAID` at once); a wrong token is refused with 30002;
 *   units without Lightning (custom units) require the token (30001). The token is compared in constant time.
 * - NUT-10/11 spending conditions in swap and melt: an input whose secret is a well-known `["P2PK", {nonce, data,
 *   tags}]` needs BIP-340 Schnorr signatures (`@noble/curves`) over `sha256(message)` in its witness
 *   (`{"signatures":[…]}`, as a JSON string or an object). `SIG_INPUTS` (the default) signs each input's secret;
 *   `SIG_ALL` signs `secret_0‖C_0‖…‖amount_0‖B__0‖…` (‖ `quote_id` in a melt) once, in the first input, and needs
 *   every input to share `data` and `tags`. `pubkeys` + `n_sigs` multisig counts distinct keys with a valid
 *   signature; after `locktime` the `refund` keys (`n_sigs_refund`) may spend too, or anyone if there are none.
 *   Malformed secrets (repeated tags, bad `n_sigs`, unknown `sigflag`, uncompressed or repeated keys) are
 *   unspendable. The NUT error list has no code for spending conditions, so every refusal is 10001 "Proof
 *   verification failed" with a detail naming the reason ("Witness is missing for p2pk signature", …). Other
 *   NUT-10 kinds (HTLC) are not enforced: the mint advertises only "10" and "11".
 * - NUT-06 `/v1/info`, NUT-07 `POST /v1/checkstate`, NUT-12 DLEQ on every signature.
 *
 * Errors are HTTP 400 `{"detail","code"}` as in NUT-00. `markPaid` is a test hook that marks a quote paid without a
 * payment.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import {
  createBlindSignature,
  createDLEQProof,
  createNewMintKeys,
  hashToCurve,
  pointFromHex,
  serializeMintKeys,
  verifyUnblindedSignature
} from "@cashu/cashu-ts"
import * as Bolt11 from "@portal/wallet/Bolt11"
import type * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import type * as Wallet from "@portal/wallet/Wallet"
import { Msat } from "@portal/protocol/Primitives"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { schnorr } from "@noble/curves/secp256k1.js"
import { createServer } from "node:http"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

/**
 * The mint could not listen on loopback, or a test hook was misused.
 * @category errors
 */
export class CashuMintError extends Schema.TaggedError<CashuMintError>()("CashuMintError", {
  reason: Schema.Literal("Listen", "UnknownQuote", "UnknownUnit"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `test mint: ${this.reason}: ${this.detail}`
  }
}

/**
 * Options of a test mint.
 * @category models
 */
export interface Options {
  /** Units with a keyset (default `["sat"]`). */
  readonly units?: ReadonlyArray<string>
  /** Static-auth issuance: quotes requested with `Clear-auth: <token>` are issued without payment. */
  readonly staticAuthToken?: Redacted.Redacted<string>
  /** bolt11 minting and melting of `sat` on the simulated network, as `walletName`'s node. */
  readonly lightning?: { readonly network: SimulatedLightning.Network; readonly walletName: string }
  /** NUT-02 input fee of every keyset, per thousand inputs (default 0). */
  readonly inputFeePpk?: number
  /** Mint and melt quote lifetime in seconds (default 600). */
  readonly quoteExpirySecs?: number
  /** Fee reserve of melt quotes, in sat (default 2). */
  readonly feeReserveSat?: number
  /** `name` in `/v1/info` (default "Portal test mint"). */
  readonly name?: string
}

/**
 * A running mint and its test hooks.
 * @category models
 */
export interface Service {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Marks a mint quote paid without a Lightning payment. */
  readonly markPaid: (quoteId: string) => Effect.Effect<void, CashuMintError>
  /** A new active keyset for `unit`; the previous one stays, inactive (swap-out only, 12002 on outputs). */
  readonly rotateKeyset: (unit: string) => Effect.Effect<string, CashuMintError>
  /** How many secrets have been spent so far. */
  readonly spentCount: Effect.Effect<number>
  /** Every request path seen, oldest first (for asserting what a client asked). */
  readonly requests: Effect.Effect<ReadonlyArray<string>>
}

/** @category tags */
export class CashuMint extends Context.Tag("@portal/testing/CashuMint")<CashuMint, Service>() {}

// ---- wire ----------------------------------------------------------------------------------------------------

/** A JSON integer ≥ 0, or its decimal string (cashu-ts writes bigints as either). */
const WireAmount = Schema.Union(
  Schema.NonNegativeInt,
  Schema.compose(Schema.String.pipe(Schema.pattern(/^[0-9]{1,15}$/)), Schema.NumberFromString)
)
const Hex = Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]+$/))
/** NUT-11 witness: a JSON string (the spec's form) or the object itself; other fields (NUT-14) are ignored. */
const WireWitness = Schema.Union(
  Schema.String,
  Schema.Struct({ signatures: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))) })
)
const WireProof = Schema.Struct({
  id: Schema.String,
  amount: WireAmount,
  secret: Schema.String,
  C: Hex,
  witness: Schema.optional(Schema.NullOr(WireWitness))
})
type WireProof = typeof WireProof.Type
const WireOutput = Schema.Struct({ id: Schema.String, amount: WireAmount, B_: Hex })
type WireOutput = typeof WireOutput.Type
const SwapRequest = Schema.Struct({ inputs: Schema.Array(WireProof), outputs: Schema.Array(WireOutput) })
const MintQuoteRequest = Schema.Struct({
  amount: WireAmount,
  unit: Schema.String,
  description: Schema.optional(Schema.NullOr(Schema.String))
})
const MintRequest = Schema.Struct({ quote: Schema.String, outputs: Schema.Array(WireOutput) })
const MeltQuoteRequest = Schema.Struct({ request: Schema.String, unit: Schema.String })
const MeltRequest = Schema.Struct({
  quote: Schema.String,
  inputs: Schema.Array(WireProof),
  outputs: Schema.optional(Schema.NullOr(Schema.Array(WireOutput)))
})
const CheckStateRequest = Schema.Struct({ Ys: Schema.Array(Hex) })

/** A NUT-00 error answer. */
class MintFailure {
  constructor(
    readonly code: number,
    readonly detail: string
  ) {}
}
const fail = (code: number, detail: string) => Effect.fail(new MintFailure(code, detail))

// ---- state ---------------------------------------------------------------------------------------------------

interface KeysetRecord {
  readonly id: string
  readonly unit: string
  active: boolean
  readonly inputFeePpk: number
  readonly privKeys: Readonly<Record<string, Uint8Array>>
  readonly pubKeys: Readonly<Record<string, string>>
}

interface MintQuote {
  readonly quote: string
  readonly amount: number
  readonly unit: string
  readonly request: string
  readonly paymentHash: string | undefined
  state: "UNPAID" | "PAID" | "ISSUED"
  readonly expiry: number
}

interface MeltQuote {
  readonly quote: string
  readonly amount: number
  readonly unit: string
  readonly request: string
  readonly feeReserve: number
  state: "UNPAID" | "PENDING" | "PAID"
  preimage: string | null
  readonly expiry: number
  change: ReadonlyArray<unknown> | undefined
}

const utf8 = new TextEncoder()
const randomId = () => randomBytes(16).toString("base64url")
const yOf = (secret: string) => hashToCurve(utf8.encode(secret)).toHex(true)
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const isPowerOfTwo = (n: number) => n > 0 && Number.isSafeInteger(n) && (n & (n - 1)) === 0 && n <= 2 ** 30

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given, "utf8")
  const b = Buffer.from(expected, "utf8")
  return a.length === b.length && timingSafeEqual(a, b)
}

// ---- NUT-10/11 spending conditions -------------------------------------------------------------------------

/** The conditions of a P2PK secret; keys are lowercase x-only hex (the y-parity prefix is ignored, NUT-11). */
interface P2pk {
  readonly data: string
  /** `tags` as sent, for the SIG_ALL "same data and tags" rule. */
  readonly tagsJson: string
  readonly sigAll: boolean
  readonly main: ReadonlyArray<string>
  readonly nSigs: number
  readonly locktime: number | undefined
  readonly refund: ReadonlyArray<string>
  readonly nSigsRefund: number
}

const malformed = (why: string) => new MintFailure(10001, `P2PK secret is malformed: ${why}`)
const CompressedKey = /^0[23][0-9a-fA-F]{64}$/
const PositiveInt = /^[1-9][0-9]{0,8}$/
const MaxSignatures = 32

/** The P2PK conditions of a secret, `undefined` for an ordinary secret or another NUT-10 kind. */
const parseP2pk = (secret: string): P2pk | undefined | MintFailure => {
  let json: unknown
  try {
    json = JSON.parse(secret)
  } catch {
    return undefined
  }
  if (!Array.isArray(json) || json.length !== 2 || json[0] !== "P2PK") return undefined
  const body = json[1] as { readonly nonce?: unknown; readonly data?: unknown; readonly tags?: unknown } | null
  if (typeof body !== "object" || body === null || Array.isArray(body)) return malformed("no {nonce, data}")
  if (typeof body.nonce !== "string" || typeof body.data !== "string") return malformed("nonce and data are strings")
  const rawTags = body.tags ?? []
  if (!Array.isArray(rawTags)) return malformed("tags is not an array")
  const tags = new Map<string, ReadonlyArray<string>>()
  for (const tag of rawTags as ReadonlyArray<unknown>) {
    if (!Array.isArray(tag) || tag.length === 0 || !tag.every((v) => typeof v === "string" && v.length > 0))
      return malformed("a tag is an array of non-empty strings")
    const [key, ...values] = tag as ReadonlyArray<string>
    if (tags.has(key!)) return malformed(`tag ${key} appears more than once`)
    tags.set(key!, values)
  }
  const pathway = (keys: ReadonlyArray<string>, name: string) => {
    if (!keys.every((k) => CompressedKey.test(k))) return malformed(`${name}: not a compressed secp256k1 key`)
    const xs = keys.map((k) => k.slice(2).toLowerCase())
    return new Set(xs).size === xs.length ? xs : malformed(`${name}: a key appears twice`)
  }
  const threshold = (name: string, keys: number) => {
    const values = tags.get(name)
    if (values === undefined) return 1
    const n = values.length === 1 && PositiveInt.test(values[0]!) ? Number(values[0]) : 0
    return n >= 1 && n <= keys ? n : malformed(`${name} must be a positive integer ≤ ${keys}`)
  }
  const main = pathway([body.data, ...(tags.get("pubkeys") ?? [])], "data/pubkeys")
  if (main instanceof MintFailure) return main
  const refund = pathway(tags.get("refund") ?? [], "refund")
  if (refund instanceof MintFailure) return refund
  const nSigs = threshold("n_sigs", main.length)
  if (nSigs instanceof MintFailure) return nSigs
  const nSigsRefund = threshold("n_sigs_refund", refund.length)
  if (nSigsRefund instanceof MintFailure) return nSigsRefund
  const sigflag = tags.get("sigflag")?.[0] ?? "SIG_INPUTS"
  if (sigflag !== "SIG_INPUTS" && sigflag !== "SIG_ALL") return malformed(`unknown sigflag ${sigflag}`)
  const lock = tags.get("locktime")?.[0]
  // NUT-11: a locktime that is not a valid unix time makes the lock permanent
  const locktime = lock !== undefined && /^[0-9]{1,15}$/.test(lock) ? Number(lock) : undefined
  return {
    data: body.data,
    tagsJson: JSON.stringify(rawTags),
    sigAll: sigflag === "SIG_ALL",
    main,
    nSigs,
    locktime,
    refund,
    nSigsRefund
  }
}

/** The signatures of a witness; `undefined` when there is none. */
const signaturesOf = (witness: WireProof["witness"]): ReadonlyArray<string> | undefined | MintFailure => {
  if (witness === undefined || witness === null) return undefined
  let parsed: unknown = witness
  if (typeof witness === "string") {
    try {
      parsed = JSON.parse(witness)
    } catch {
      return new MintFailure(10001, "Witness is not valid JSON")
    }
  }
  const signatures = (parsed as { readonly signatures?: unknown } | null)?.signatures
  if (signatures === undefined || signatures === null) return undefined
  if (!Array.isArray(signatures) || !signatures.every((s) => typeof s === "string"))
    return new MintFailure(10001, "Witness signatures must be an array of hex strings")
  // every signature is tried against every key: bound the work one request can ask for
  if (signatures.length > MaxSignatures)
    return new MintFailure(10001, `Witness has more than ${MaxSignatures} signatures`)
  return signatures.length === 0 ? undefined : signatures
}

/** How many distinct `keys` (x-only hex) have a valid BIP-340 signature over `sha256(message)`. */
const validSigners = (signatures: ReadonlyArray<string>, message: string, keys: ReadonlyArray<string>) => {
  const digest = createHash("sha256").update(message, "utf8").digest()
  const sigs = signatures.filter((s) => /^[0-9a-fA-F]{128}$/.test(s)).map((s) => Buffer.from(s, "hex"))
  return keys.filter((key) => {
    const pub = Buffer.from(key, "hex")
    return sigs.some((sig) => {
      try {
        return schnorr.verify(sig, digest, pub)
      } catch {
        return false
      }
    })
  }).length
}

/** Whether `signatures` over `message` satisfy `p2pk` at `nowSecs`; a failure names why not. */
const checkP2pk = (
  p2pk: P2pk,
  signatures: ReadonlyArray<string> | undefined,
  message: string,
  nowSecs: number
): MintFailure | undefined => {
  const expired = p2pk.locktime !== undefined && nowSecs > p2pk.locktime
  if (expired && p2pk.refund.length === 0) return undefined // NUT-11: unlocked, anyone can spend
  if (signatures === undefined) return new MintFailure(10001, "Witness is missing for p2pk signature")
  const main = validSigners(signatures, message, p2pk.main)
  if (main >= p2pk.nSigs) return undefined
  if (expired) {
    const refund = validSigners(signatures, message, p2pk.refund)
    if (refund >= p2pk.nSigsRefund) return undefined
    return new MintFailure(
      10001,
      `not enough valid p2pk signatures: ${main} of ${p2pk.nSigs} lock keys, ${refund} of ${p2pk.nSigsRefund} refund keys`
    )
  }
  return new MintFailure(10001, `not enough valid p2pk signatures: ${main} of ${p2pk.nSigs} required`)
}

/** Enforces NUT-11 on the inputs of a swap (`quoteId` undefined) or a melt; `undefined` when they may be spent. */
const checkSpendingConditions = (
  inputs: ReadonlyArray<WireProof>,
  outputs: ReadonlyArray<WireOutput>,
  quoteId: string | undefined,
  nowSecs: number
): MintFailure | undefined => {
  const conditions: Array<P2pk | undefined> = []
  for (const proof of inputs) {
    const parsed = parseP2pk(proof.secret)
    if (parsed instanceof MintFailure) return parsed
    conditions.push(parsed)
  }
  const first = conditions[0]
  if (conditions.some((c) => c?.sigAll === true)) {
    if (!conditions.every((c) => c !== undefined && c.data === first!.data && c.tagsJson === first!.tagsJson))
      return new MintFailure(10001, "SIG_ALL: every input must be P2PK with the same data and tags")
    const message =
      inputs.map((p) => p.secret + p.C).join("") +
      outputs.map((o) => String(o.amount) + o.B_).join("") +
      (quoteId ?? "")
    const signatures = signaturesOf(inputs[0]!.witness)
    if (signatures instanceof MintFailure) return signatures
    return checkP2pk(first!, signatures, message, nowSecs)
  }
  for (let i = 0; i < inputs.length; i++) {
    const p2pk = conditions[i]
    if (p2pk === undefined) continue
    const signatures = signaturesOf(inputs[i]!.witness)
    if (signatures instanceof MintFailure) return signatures
    const failure = checkP2pk(p2pk, signatures, inputs[i]!.secret, nowSecs)
    if (failure !== undefined) return failure
  }
  return undefined
}

/**
 * Starts a mint; it stops when the scope closes.
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, CashuMintError, Scope.Scope> =>
  Effect.gen(function* () {
    const units = options.units ?? ["sat"]
    const quoteExpirySecs = options.quoteExpirySecs ?? 600
    const feeReserveSat = options.feeReserveSat ?? 2
    const inputFeePpk = options.inputFeePpk ?? 0
    const keysets = new Map<string, KeysetRecord>()
    const spent = new Set<string>()
    /** NUT-07: the witness a spent proof was spent with, by Y. */
    const spentWitness = new Map<string, string>()
    const markSpent = (ys: ReadonlyArray<string>, proofs: ReadonlyArray<WireProof>) =>
      ys.forEach((y, i) => {
        spent.add(y)
        const witness = proofs[i]?.witness
        if (witness !== undefined && witness !== null)
          spentWitness.set(y, typeof witness === "string" ? witness : JSON.stringify(witness))
      })
    const pending = new Set<string>()
    const signed = new Set<string>()
    const mintQuotes = new Map<string, MintQuote>()
    const meltQuotes = new Map<string, MeltQuote>()
    const seen: Array<string> = []
    const lightning = options.lightning
    const mintWallet: Wallet.Service | undefined =
      lightning === undefined ? undefined : yield* lightning.network.wallet(lightning.walletName)

    const addKeyset = (unit: string) => {
      const pair = createNewMintKeys(31, undefined, { unit, input_fee_ppk: inputFeePpk })
      for (const keyset of keysets.values()) if (keyset.unit === unit) keyset.active = false
      keysets.set(pair.keysetId, {
        id: pair.keysetId,
        unit,
        active: true,
        inputFeePpk,
        privKeys: pair.privKeys,
        pubKeys: serializeMintKeys(pair.pubKeys)
      })
      return pair.keysetId
    }
    for (const unit of units) addKeyset(unit)
    const hasUnit = (unit: string) => [...keysets.values()].some((keyset) => keyset.unit === unit)

    const now = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

    // ---- verification and signing ----------------------------------------------------------------------------

    /** Checks inputs (known keyset, valid signature, unspent, no duplicates); returns their Ys, unit and fee. */
    const verifyInputs = (inputs: ReadonlyArray<WireProof>) =>
      Effect.suspend(() => {
        if (inputs.length === 0) return fail(11005, "no inputs")
        const ys: Array<string> = []
        let unit: string | undefined
        let feePpk = 0
        for (const proof of inputs) {
          const keyset = keysets.get(proof.id)
          if (keyset === undefined) return fail(12001, `keyset ${proof.id} is not known`)
          if (unit !== undefined && unit !== keyset.unit) return fail(11010, "inputs of several units")
          unit = keyset.unit
          feePpk += keyset.inputFeePpk
          const key = keyset.privKeys[String(proof.amount)]
          if (key === undefined) return fail(10001, `no key for amount ${proof.amount}`)
          let valid = false
          try {
            valid = verifyUnblindedSignature(
              { C: pointFromHex(proof.C), secret: utf8.encode(proof.secret), id: proof.id },
              key
            )
          } catch {
            valid = false
          }
          if (!valid) return fail(10001, "Token could not be verified")
          ys.push(yOf(proof.secret))
        }
        if (new Set(ys).size !== ys.length) return fail(11007, "Duplicate inputs provided")
        for (const y of ys) {
          if (spent.has(y)) return fail(11001, "Token already spent")
          if (pending.has(y)) return fail(11002, "Token is pending")
        }
        const total = inputs.reduce((sum, proof) => sum + proof.amount, 0)
        return Effect.succeed({ ys, unit: unit!, total, fee: Math.ceil(feePpk / 1000) })
      })

    /** Checks outputs; `blank` (NUT-08 change): their amounts are the mint's to choose. */
    const verifyOutputs = (outputs: ReadonlyArray<WireOutput>, unit: string, blank = false) =>
      Effect.suspend(() => {
        const bs = outputs.map((output) => output.B_.toLowerCase())
        if (new Set(bs).size !== bs.length) return fail(11008, "Duplicate outputs provided")
        for (const output of outputs) {
          const keyset = keysets.get(output.id)
          if (keyset === undefined) return fail(12001, `keyset ${output.id} is not known`)
          if (!keyset.active) return fail(12002, `keyset ${output.id} is inactive`)
          if (keyset.unit !== unit) return fail(11010, `output unit ${keyset.unit} does not match ${unit}`)
          if (!blank && (!isPowerOfTwo(output.amount) || keyset.privKeys[String(output.amount)] === undefined))
            return fail(10001, `no key for amount ${output.amount}`)
          if (signed.has(output.B_.toLowerCase())) return fail(10002, "Blinded message already signed")
          try {
            pointFromHex(output.B_)
          } catch {
            return fail(10001, "invalid blinded message")
          }
        }
        return Effect.succeed(outputs.reduce((sum, output) => sum + output.amount, 0))
      })

    const sign = (outputs: ReadonlyArray<WireOutput>) =>
      outputs.map((output) => {
        const keyset = keysets.get(output.id)!
        const key = keyset.privKeys[String(output.amount)]!
        const B_ = pointFromHex(output.B_)
        const signature = createBlindSignature(B_, key, output.id)
        const dleq = createDLEQProof(B_, key)
        signed.add(output.B_.toLowerCase())
        return {
          id: output.id,
          amount: output.amount,
          C_: signature.C_.toHex(true),
          dleq: { e: toHex(dleq.e), s: toHex(dleq.s) }
        }
      })

    // ---- quotes ------------------------------------------------------------------------------------------------

    /** Brings a quote's state up to date with its invoice. */
    const refreshMintQuote = (quote: MintQuote) =>
      quote.state !== "UNPAID" || quote.paymentHash === undefined || mintWallet === undefined
        ? Effect.succeed(quote)
        : mintWallet.lookupInvoice(Bolt11.PaymentHash.make(quote.paymentHash)).pipe(
            Effect.map((status) => {
              if (status.state === "settled" && quote.state === "UNPAID") quote.state = "PAID"
              return quote
            }),
            Effect.orElseSucceed(() => quote)
          )

    const mintQuoteJson = (quote: MintQuote) => ({
      quote: quote.quote,
      request: quote.request,
      amount: quote.amount,
      unit: quote.unit,
      state: quote.state,
      expiry: quote.expiry
    })

    const meltQuoteJson = (quote: MeltQuote) => ({
      quote: quote.quote,
      request: quote.request,
      amount: quote.amount,
      unit: quote.unit,
      fee_reserve: quote.feeReserve,
      state: quote.state,
      expiry: quote.expiry,
      payment_preimage: quote.preimage,
      ...(quote.change === undefined ? {} : { change: quote.change })
    })

    const createMintQuote = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* decodeBody(MintQuoteRequest)
      if (!hasUnit(body.unit)) return yield* fail(11013, `Unit ${body.unit} is not supported`)
      if (body.amount <= 0) return yield* fail(11006, "amount must be > 0")
      const auth = request.headers["clear-auth"]
      const expiry = (yield* now) + quoteExpirySecs
      if (auth !== undefined) {
        if (options.staticAuthToken === undefined || !sameSecret(auth, Redacted.value(options.staticAuthToken)))
          return yield* fail(30002, "Clear authentication failed")
        const quote: MintQuote = {
          quote: randomId(),
          amount: body.amount,
          unit: body.unit,
          request: `static-auth:${randomId()}`,
          paymentHash: undefined,
          state: "PAID",
          expiry
        }
        mintQuotes.set(quote.quote, quote)
        return mintQuoteJson(quote)
      }
      if (mintWallet === undefined || body.unit !== "sat")
        return yield* options.staticAuthToken === undefined
          ? fail(11013, `Unit ${body.unit} cannot be minted with bolt11 here`)
          : fail(30001, "Endpoint requires clear auth")
      const invoice = yield* mintWallet
        .makeInvoice({
          amountMsat: Msat.make(body.amount * 1000),
          description: body.description ?? "",
          expirySecs: quoteExpirySecs
        })
        .pipe(Effect.catchAll((error) => fail(20004, `cannot create an invoice: ${error.message}`)))
      const quote: MintQuote = {
        quote: randomId(),
        amount: body.amount,
        unit: body.unit,
        request: invoice.bolt11,
        paymentHash: invoice.paymentHash,
        state: "UNPAID",
        expiry
      }
      mintQuotes.set(quote.quote, quote)
      return mintQuoteJson(quote)
    })

    const getMintQuote = Effect.gen(function* () {
      const { id } = yield* HttpRouter.params
      const quote = mintQuotes.get(id ?? "")
      if (quote === undefined) return yield* fail(20000, "quote not found")
      return mintQuoteJson(yield* refreshMintQuote(quote))
    })

    const mintTokens = Effect.gen(function* () {
      const body = yield* decodeBody(MintRequest)
      const found = mintQuotes.get(body.quote)
      if (found === undefined) return yield* fail(20000, "quote not found")
      const quote = yield* refreshMintQuote(found)
      if (quote.state === "ISSUED") return yield* fail(20002, "Tokens have already been issued for quote")
      if (quote.state !== "PAID") {
        if ((yield* now) > quote.expiry) return yield* fail(20007, "Quote is expired")
        return yield* fail(20001, "Quote request is not paid")
      }
      const total = yield* verifyOutputs(body.outputs, quote.unit)
      if (total !== quote.amount) return yield* fail(11005, `outputs sum to ${total}, quote is for ${quote.amount}`)
      if (quote.state !== "PAID") return yield* fail(20002, "Tokens have already been issued for quote")
      quote.state = "ISSUED"
      return { signatures: sign(body.outputs) }
    })

    const swap = Effect.gen(function* () {
      const body = yield* decodeBody(SwapRequest)
      const inputs = yield* verifyInputs(body.inputs)
      const locked = checkSpendingConditions(body.inputs, body.outputs, undefined, yield* now)
      if (locked !== undefined) return yield* Effect.fail(locked)
      const total = yield* verifyOutputs(body.outputs, inputs.unit)
      if (inputs.total - inputs.fee !== total)
        return yield* fail(11005, `inputs ${inputs.total} - fee ${inputs.fee} != outputs ${total}`)
      // re-checked with the marking, with no yield in between: concurrent swaps of one proof cannot both pass
      for (const y of inputs.ys) if (spent.has(y) || pending.has(y)) return yield* fail(11001, "Token already spent")
      markSpent(inputs.ys, body.inputs)
      return { signatures: sign(body.outputs) }
    })

    const createMeltQuote = Effect.gen(function* () {
      const body = yield* decodeBody(MeltQuoteRequest)
      if (body.unit !== "sat" || mintWallet === undefined) return yield* fail(11013, `Unit ${body.unit} cannot melt`)
      const invoice = yield* Bolt11.decode(body.request).pipe(
        Effect.catchAll((error) => fail(20008, `invalid invoice: ${error.message}`))
      )
      if (invoice.amountMsat === undefined) return yield* fail(11011, "Amountless invoice is not supported")
      const quote: MeltQuote = {
        quote: randomId(),
        amount: Math.ceil(invoice.amountMsat / 1000),
        unit: "sat",
        request: body.request,
        feeReserve: feeReserveSat,
        state: "UNPAID",
        preimage: null,
        expiry: (yield* now) + quoteExpirySecs,
        change: undefined
      }
      meltQuotes.set(quote.quote, quote)
      return meltQuoteJson(quote)
    })

    const getMeltQuote = Effect.gen(function* () {
      const { id } = yield* HttpRouter.params
      const quote = meltQuotes.get(id ?? "")
      if (quote === undefined) return yield* fail(20000, "quote not found")
      return meltQuoteJson(quote)
    })

    const melt = Effect.gen(function* () {
      const body = yield* decodeBody(MeltRequest)
      const quote = meltQuotes.get(body.quote)
      if (quote === undefined) return yield* fail(20000, "quote not found")
      if (quote.state === "PAID") return yield* fail(20006, "Invoice already paid")
      if (quote.state === "PENDING") return yield* fail(20005, "Quote is pending")
      if ((yield* now) > quote.expiry) return yield* fail(20007, "Quote is expired")
      const inputs = yield* verifyInputs(body.inputs)
      if (inputs.unit !== quote.unit) return yield* fail(11010, "input unit does not match the quote")
      const outputs = body.outputs ?? []
      const locked = checkSpendingConditions(body.inputs, outputs, quote.quote, yield* now)
      if (locked !== undefined) return yield* Effect.fail(locked)
      if (outputs.length > 0) yield* verifyOutputs(outputs, inputs.unit, true)
      const needed = quote.amount + quote.feeReserve + inputs.fee
      if (inputs.total < quote.amount + inputs.fee)
        return yield* fail(11005, `inputs ${inputs.total} do not cover ${quote.amount} + fee ${inputs.fee}`)
      if (inputs.total < needed && quote.feeReserve > 0)
        return yield* fail(11005, `inputs ${inputs.total} do not cover ${needed} with the fee reserve`)
      for (const y of inputs.ys) if (spent.has(y) || pending.has(y)) return yield* fail(11001, "Token already spent")
      for (const y of inputs.ys) pending.add(y)
      quote.state = "PENDING"
      const paid = yield* Effect.either(mintWallet!.payInvoice(quote.request))
      for (const y of inputs.ys) pending.delete(y)
      if (paid._tag === "Left") {
        quote.state = "UNPAID"
        return yield* fail(20004, `Lightning payment failed: ${paid.left.message}`)
      }
      markSpent(inputs.ys, body.inputs)
      const lightningFee = Math.ceil(paid.right.feesPaidMsat / 1000)
      quote.state = "PAID"
      quote.preimage = paid.right.preimage
      // NUT-08: return what the fee reserve did not use, as blank outputs allow
      let overpaid = inputs.total - inputs.fee - quote.amount - lightningFee
      const change: Array<WireOutput> = []
      for (const output of outputs) {
        if (overpaid <= 0) break
        let amount = 2 ** Math.floor(Math.log2(overpaid))
        while (amount > 0 && keysets.get(output.id)?.privKeys[String(amount)] === undefined) amount /= 2
        if (amount < 1) break
        change.push({ ...output, amount })
        overpaid -= amount
      }
      quote.change = sign(change)
      return meltQuoteJson(quote)
    })

    const checkState = Effect.gen(function* () {
      const body = yield* decodeBody(CheckStateRequest)
      return {
        states: body.Ys.map((Y) => ({
          Y,
          state: spent.has(Y.toLowerCase()) ? "SPENT" : pending.has(Y.toLowerCase()) ? "PENDING" : "UNSPENT",
          witness: spentWitness.get(Y.toLowerCase()) ?? null
        }))
      }
    })

    const info = Effect.sync(() => ({
      name: options.name ?? "Portal test mint",
      pubkey: "02" + "00".repeat(31) + "01",
      version: "portal-test-mint/0.1.0",
      description: "A test mint: not for production",
      contact: [],
      nuts: {
        "4": {
          methods: [...new Set([...keysets.values()].map((k) => k.unit))].map((unit) => ({
            method: "bolt11",
            unit,
            description: true
          })),
          disabled: false
        },
        "5": { methods: mintWallet === undefined ? [] : [{ method: "bolt11", unit: "sat" }], disabled: false },
        "7": { supported: true },
        "8": { supported: true },
        "10": { supported: true },
        "11": { supported: true },
        "12": { supported: true }
      }
    }))

    const keysJson = (list: ReadonlyArray<KeysetRecord>) => ({
      keysets: list.map((keyset) => ({
        id: keyset.id,
        unit: keyset.unit,
        active: keyset.active,
        input_fee_ppk: keyset.inputFeePpk,
        keys: keyset.pubKeys
      }))
    })

    // every keyset, inactive ones too: wallets then verify DLEQs of old proofs without a `/v1/keys/{id}` round trip
    const keys = Effect.sync(() => keysJson([...keysets.values()]))
    const keysById = Effect.gen(function* () {
      const { id } = yield* HttpRouter.params
      const keyset = keysets.get(id ?? "")
      if (keyset === undefined) return yield* fail(12001, "Keyset is not known")
      return keysJson([keyset])
    })
    const keysetList = Effect.sync(() => ({
      keysets: [...keysets.values()].map((keyset) => ({
        id: keyset.id,
        unit: keyset.unit,
        active: keyset.active,
        input_fee_ppk: keyset.inputFeePpk
      }))
    }))

    const route = <E, R>(handler: Effect.Effect<unknown, E | MintFailure, R>) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        seen.push(`${request.method} ${request.url}`)
        if (seen.length > 10_000) seen.shift()
        return yield* handler.pipe(
          Effect.flatMap((body) => HttpServerResponse.json(body)),
          Effect.catchAll((error) =>
            error instanceof MintFailure
              ? HttpServerResponse.json({ detail: error.detail, code: error.code }, { status: 400 })
              : HttpServerResponse.json({ detail: String(error), code: 0 }, { status: 500 })
          )
        )
      })

    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/v1/info", route(info)),
      HttpRouter.get("/v1/keys", route(keys)),
      HttpRouter.get("/v1/keys/:id", route(keysById)),
      HttpRouter.get("/v1/keysets", route(keysetList)),
      HttpRouter.post("/v1/swap", route(swap)),
      HttpRouter.post("/v1/mint/quote/bolt11", route(createMintQuote)),
      HttpRouter.get("/v1/mint/quote/bolt11/:id", route(getMintQuote)),
      HttpRouter.post("/v1/mint/bolt11", route(mintTokens)),
      HttpRouter.post("/v1/melt/quote/bolt11", route(createMeltQuote)),
      HttpRouter.get("/v1/melt/quote/bolt11/:id", route(getMeltQuote)),
      HttpRouter.post("/v1/melt/bolt11", route(melt)),
      HttpRouter.post("/v1/checkstate", route(checkState))
    )

    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(
      Effect.mapError((cause) => new CashuMintError({ reason: "Listen", detail: "cannot listen on loopback", cause }))
    )
    yield* server.serve(router)
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0

    return CashuMint.of({
      url: `http://127.0.0.1:${port}`,
      port,
      markPaid: (quoteId) =>
        Effect.suspend(() => {
          const quote = mintQuotes.get(quoteId)
          if (quote === undefined)
            return Effect.fail(new CashuMintError({ reason: "UnknownQuote", detail: `no mint quote ${quoteId}` }))
          if (quote.state === "UNPAID") quote.state = "PAID"
          return Effect.void
        }),
      rotateKeyset: (unit) =>
        Effect.suspend(() =>
          hasUnit(unit)
            ? Effect.succeed(addKeyset(unit))
            : Effect.fail(new CashuMintError({ reason: "UnknownUnit", detail: `no keyset for unit ${unit}` }))
        ),
      spentCount: Effect.sync(() => spent.size),
      requests: Effect.sync(() => [...seen])
    })
  })

const decodeBody = <A, I>(schema: Schema.Schema<A, I>) =>
  HttpServerRequest.schemaBodyJson(schema).pipe(
    Effect.catchAll((error) =>
      fail(10000, `bad request: ${error._tag === "ParseError" ? error.message : "unreadable body"}`)
    )
  )

/**
 * A mint as a layer.
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CashuMint, CashuMintError> =>
  Layer.scoped(CashuMint, make(options))
