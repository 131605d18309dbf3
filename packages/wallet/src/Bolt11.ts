/**
 * BOLT11 payment requests (ecosystem.md §11): the branded `Bolt11`, `PaymentHash` and `Preimage` strings, decoding
 * (over `light-bolt11-decoder`, which does not check signatures) and the preimage check every settlement must pass:
 * sha256(preimage) = payment hash. Amounts are msat.
 *
 * @since 0.1.0
 */
import { Msat, UnixSeconds } from "@portal/protocol/Primitives"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { sha256Hex } from "./internal/crypto.js"
import { decodeRaw } from "./internal/lightBolt11Decoder.js"
import { InvalidBolt11 } from "./WalletError.js"

/**
 * A BOLT11 payment request (`lnbc…`, `lntb…`, `lnbcrt…`), lower case.
 * @category schemas
 */
export const Bolt11 = Schema.String.pipe(
  Schema.pattern(/^ln[a-z0-9]+$/, { message: () => "expected a BOLT11 payment request (ln…)" }),
  Schema.brand("Bolt11")
)
/** @category schemas */
export type Bolt11 = typeof Bolt11.Type

/**
 * A payment hash: 32 bytes as 64 lowercase hex characters.
 * @category schemas
 */
export const PaymentHash = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected a payment hash of 64 lowercase hex characters" }),
  Schema.brand("PaymentHash")
)
/** @category schemas */
export type PaymentHash = typeof PaymentHash.Type

/**
 * A payment preimage: 32 bytes as 64 lowercase hex characters.
 * @category schemas
 */
export const Preimage = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected a preimage of 64 lowercase hex characters" }),
  Schema.brand("Preimage")
)
/** @category schemas */
export type Preimage = typeof Preimage.Type

/**
 * What a BOLT11 request says. `amountMsat` is absent for an amountless invoice.
 * @category models
 */
export class DecodedInvoice extends Schema.Class<DecodedInvoice>("DecodedInvoice")({
  bolt11: Bolt11,
  paymentHash: PaymentHash,
  amountMsat: Schema.optional(Msat),
  description: Schema.optional(Schema.String),
  createdAt: UnixSeconds,
  expirySecs: Schema.Int.pipe(Schema.nonNegative()),
  expiresAt: UnixSeconds
}) {}

const MsatFromDecimal = Schema.compose(
  Schema.String.pipe(Schema.pattern(/^[0-9]{1,16}$/, { message: () => "expected an msat amount" })),
  Schema.NumberFromString
).pipe(Schema.compose(Msat))

const RawInvoice = Schema.Struct({
  amount: Schema.optional(MsatFromDecimal),
  payment_hash: PaymentHash,
  description: Schema.optional(Schema.String),
  timestamp: UnixSeconds,
  expiry: Schema.Int.pipe(Schema.nonNegative())
})

/**
 * Decodes a BOLT11 payment request. Does not verify its signature.
 * @category decoding
 */
export const decode = (paymentRequest: string): Effect.Effect<DecodedInvoice, InvalidBolt11> =>
  Effect.gen(function* () {
    const bolt11 = yield* Schema.decodeUnknown(Bolt11)(paymentRequest.trim().toLowerCase()).pipe(
      Effect.mapError(() => new InvalidBolt11({ detail: "expected a BOLT11 payment request (ln…)" }))
    )
    const raw = yield* Effect.try({
      try: () => decodeRaw(bolt11),
      catch: (cause) => new InvalidBolt11({ detail: `cannot decode: ${String(cause)}`, cause })
    })
    const fields = yield* Schema.decodeUnknown(RawInvoice)(raw, { exact: false }).pipe(
      Effect.mapError((e) => new InvalidBolt11({ detail: e.message }))
    )
    return new DecodedInvoice({
      bolt11,
      paymentHash: fields.payment_hash,
      ...(fields.amount === undefined ? {} : { amountMsat: fields.amount }),
      ...(fields.description === undefined ? {} : { description: fields.description }),
      createdAt: fields.timestamp,
      expirySecs: fields.expiry,
      expiresAt: UnixSeconds.make(fields.timestamp + fields.expiry)
    })
  })

/**
 * The payment hash a preimage commits to: sha256(preimage).
 * @category preimages
 */
export const paymentHashOf = (preimage: Preimage): PaymentHash => PaymentHash.make(sha256Hex(preimage))

/**
 * Whether sha256(preimage) equals the payment hash: the only proof that an invoice was paid.
 * @category preimages
 */
export const preimageMatches = (preimage: string, paymentHash: string): boolean =>
  /^[0-9a-f]{64}$/.test(preimage) && sha256Hex(preimage) === paymentHash
