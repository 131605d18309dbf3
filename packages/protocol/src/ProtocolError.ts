/**
 * Every typed error of the protocol package. One class per decision a caller makes; the sub-kind sits in `reason`.
 * Messages name the field and the bad value, never a secret.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A recurrence calendar that does not parse. `reason` mirrors the reference's `CalendarError` variants.
 * @category errors
 */
export class CalendarError extends Schema.TaggedError<CalendarError>()("CalendarError", {
  reason: Schema.Literal("InvalidFormat", "InvalidWeekday", "InvalidTimeComponent", "InvalidRange", "InvalidTimezone"),
  input: Schema.String,
  detail: Schema.String,
  /** For `InvalidRange`: the bounds as written (the reference's `InvalidRange { start, end }`). */
  range: Schema.optional(Schema.Struct({ start: Schema.Number, end: Schema.Number }))
}) {
  override get message() {
    return `calendar ${JSON.stringify(this.input)}: ${this.reason}: ${this.detail}`
  }
}

/**
 * A `portal://` key-handshake URL that does not parse. `reason` mirrors the reference's parse errors.
 * @category errors
 */
export class HandshakeUrlError extends Schema.TaggedError<HandshakeUrlError>()("HandshakeUrlError", {
  reason: Schema.Literal(
    "InvalidProtocol",
    "MissingQueryParams",
    "Bech32",
    "InvalidQueryParam",
    "MissingRequiredParam",
    "InvalidRelayUrl",
    "NoRelays"
  ),
  detail: Schema.String
}) {
  override get message() {
    return `handshake URL: ${this.reason}: ${this.detail}`
  }
}

/**
 * A public key that is neither 64-hex, `npub1…` nor `nostr:npub1…`, or not a point on the curve.
 * @category errors
 */
export class InvalidPublicKey extends Schema.TaggedError<InvalidPublicKey>()("InvalidPublicKey", {
  input: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `public key ${JSON.stringify(this.input)}: ${this.detail}`
  }
}

/**
 * A subkey proof that does not hold: the derivation does not give the claimed subkey, or it is used outside its
 * validity window.
 * @category errors
 */
export class InvalidSubkeyProof extends Schema.TaggedError<InvalidSubkeyProof>()("InvalidSubkeyProof", {
  reason: Schema.Literal("Derivation", "NotYetValid", "Expired", "Malformed"),
  detail: Schema.String
}) {
  override get message() {
    return `subkey proof: ${this.reason}: ${this.detail}`
  }
}

/**
 * Decrypted Portal content that does not decode into the expected message type.
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  kind: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `kind ${this.kind} content: ${this.detail}`
  }
}

/**
 * An amount or currency conversion that cannot be done (zero, negative, not whole, overflow, bad rate).
 * @category errors
 */
export class InvalidAmount extends Schema.TaggedError<InvalidAmount>()("InvalidAmount", {
  field: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.field}: ${this.detail}`
  }
}

/**
 * A subkey that cannot be derived: the master secret or main key is not a valid key, or (with negligible
 * probability) the tweak is out of range or the child key is zero. Secrets never appear in `detail`.
 * @category errors
 */
export class SubkeyDerivationError extends Schema.TaggedError<SubkeyDerivationError>()("SubkeyDerivationError", {
  reason: Schema.Literal("MasterSecret", "MainKey", "Tweak"),
  detail: Schema.String
}) {
  override get message() {
    return `subkey derivation: ${this.reason}: ${this.detail}`
  }
}

/** @category errors */
export type ProtocolError =
  | CalendarError
  | HandshakeUrlError
  | InvalidPublicKey
  | InvalidSubkeyProof
  | InvalidMessage
  | InvalidAmount
  | SubkeyDerivationError

/** @category errors */
export const ProtocolError = Schema.Union(
  CalendarError,
  HandshakeUrlError,
  InvalidPublicKey,
  InvalidSubkeyProof,
  InvalidMessage,
  InvalidAmount,
  SubkeyDerivationError
)
