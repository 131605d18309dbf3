/**
 * Branded primitives of the Portal wire model: keys, event ids, timestamps and amounts.
 *
 * Wire quirks live here and in the message schemas: inside Portal content, timestamps travel as decimal
 * strings (`"1700000000"`), while Nostr event fields and JWT claims use JSON integers. Money is never a
 * float: msat and fiat cents are integers.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { JsonFloat } from "./internal/json.js"

/**
 * A 32-byte x-only public key as 64 lowercase hex characters.
 * @category keys
 */
export const PublicKeyHex = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected 64 lowercase hex characters (an x-only public key)" }),
  Schema.brand("PublicKeyHex")
)
/** @category keys */
export type PublicKeyHex = typeof PublicKeyHex.Type

/**
 * A Nostr event id: sha256 of the serialised event, 64 lowercase hex characters.
 * @category keys
 */
export const EventIdHex = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected 64 lowercase hex characters (an event id)" }),
  Schema.brand("EventIdHex")
)
/** @category keys */
export type EventIdHex = typeof EventIdHex.Type

/**
 * Unix time in whole seconds.
 * @category time
 */
export const UnixSeconds = Schema.Int.pipe(Schema.nonNegative(), Schema.brand("UnixSeconds"))
/** @category time */
export type UnixSeconds = typeof UnixSeconds.Type

const decimalU64 = Schema.String.pipe(
  Schema.pattern(/^[0-9]{1,20}$/, { message: () => "expected a timestamp as a decimal string of Unix seconds" })
)

/**
 * A Portal content timestamp: a decimal string on the wire (`"1700000000"`), `UnixSeconds` decoded.
 * The reference rejects a JSON number here, and so do we.
 * @category time
 */
export const TimestampFromString = Schema.compose(Schema.compose(decimalU64, Schema.NumberFromString), UnixSeconds)
/** @category time */
export type TimestampFromString = typeof TimestampFromString.Type

/**
 * An amount of millisatoshis as a whole, non-negative number.
 * @category amounts
 */
export const Msat = Schema.Int.pipe(Schema.nonNegative(), Schema.brand("Msat"))
/** @category amounts */
export type Msat = typeof Msat.Type

/**
 * An amount of satoshis as a whole, non-negative number; a separate brand from `Msat`.
 * @category amounts
 */
export const Sat = Schema.Int.pipe(Schema.nonNegative(), Schema.brand("Sat"))
/** @category amounts */
export type Sat = typeof Sat.Type

/**
 * A Portal amount as it travels in content: a JSON integer, msat when the currency is `Millisats`, fiat minor units
 * (cents) otherwise. Which unit applies is decided by the message's `currency`; see `Currency.toMsat`.
 * @category amounts
 */
export const Amount = Schema.Int.pipe(Schema.nonNegative(), Schema.brand("Amount"))
/** @category amounts */
export type Amount = typeof Amount.Type

/**
 * The largest u64, `18446744073709551615`: the reference's "never expires" subkey timestamp.
 * @category time
 */
export const U64_MAX = 18446744073709551615n

/**
 * A u64 Portal timestamp as a decimal string on the wire, `bigint` decoded. Subkey metadata uses the full u64 range
 * (`expires_at` is often `u64::MAX`), which a JS number cannot hold.
 * @category time
 */
export const U64TimestampFromString = Schema.compose(
  decimalU64,
  Schema.compose(Schema.BigInt, Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(0n, U64_MAX)))
)
/** @category time */
export type U64TimestampFromString = typeof U64TimestampFromString.Type

/**
 * An unsigned 32-bit integer (a JSON number on the wire).
 * @category numbers
 */
export const Uint32 = Schema.Int.pipe(Schema.between(0, 4294967295))

/**
 * An unsigned 8-bit integer (a JSON number on the wire).
 * @category numbers
 */
export const Uint8 = Schema.Int.pipe(Schema.between(0, 255))

/**
 * A JSON number the reference types as `f64` (the exchange rate). Decoded from a plain JSON number; encoded as a
 * marker that `Messages.encodeContent` prints the way Rust does (`95000.0`, with the trailing `.0`) and that
 * `JSON.stringify` prints as a plain number.
 * @category numbers
 */
export const Float64 = Schema.transform(
  Schema.Union(Schema.Number, Schema.instanceOf(JsonFloat, { jsonSchema: { type: "number" } })),
  Schema.Number.pipe(Schema.finite()),
  {
    strict: true,
    decode: (input) => (typeof input === "number" ? input : input.value),
    encode: (value) => new JsonFloat(value)
  }
).annotations({ identifier: "Float64" })
