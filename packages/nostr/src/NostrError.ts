/**
 * Every typed error of the Nostr package. One class per decision a caller makes; the sub-kind sits in `reason`.
 *
 * Messages name the field and the bad value, but never a secret key, a mnemonic, a conversation key or a
 * plaintext: `InvalidSecretKey` says what shape was expected and withholds the input.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A secret key that is neither 64 hex characters nor `nsec1…`, is out of the curve's range, or a mnemonic that
 * does not derive a key. The input is never part of the error.
 * @category errors
 */
export class InvalidSecretKey extends Schema.TaggedError<InvalidSecretKey>()("InvalidSecretKey", {
  reason: Schema.Literal("Format", "Range", "Mnemonic"),
  detail: Schema.String
}) {
  override get message() {
    return `secret key: ${this.reason}: ${this.detail} (value withheld)`
  }
}

/**
 * An event that does not decode as a NIP-01 event, or whose id or signature does not hold.
 * @category errors
 */
export class InvalidEvent extends Schema.TaggedError<InvalidEvent>()("InvalidEvent", {
  reason: Schema.Literal("Malformed", "Id", "Signature"),
  id: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message() {
    return `event${this.id === undefined ? "" : ` ${this.id}`}: ${this.reason}: ${this.detail}`
  }
}

/**
 * NIP-44 or NIP-04 encryption or decryption failed: a payload that is not ours, tampered with, badly padded, or a
 * plaintext out of the allowed size. Neither the key nor the plaintext is in the message.
 * @category errors
 */
export class EncryptionError extends Schema.TaggedError<EncryptionError>()("EncryptionError", {
  scheme: Schema.Literal("nip44", "nip04"),
  operation: Schema.Literal("encrypt", "decrypt", "conversation-key"),
  detail: Schema.String
}) {
  override get message() {
    return `${this.scheme} ${this.operation}: ${this.detail}`
  }
}

/**
 * A signer that cannot do what was asked: a remote signer that refused, is unreachable, or did not answer in time.
 * The local signer never fails with this.
 * @category errors
 */
export class SignerError extends Schema.TaggedError<SignerError>()("SignerError", {
  reason: Schema.Literal("Rejected", "Unavailable", "Timeout"),
  detail: Schema.String
}) {
  override get message() {
    return `signer: ${this.reason}: ${this.detail}`
  }
}

/**
 * A relay URL that is not `ws://` or `wss://`.
 * @category errors
 */
export class InvalidRelayUrl extends Schema.TaggedError<InvalidRelayUrl>()("InvalidRelayUrl", {
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `relay url ${JSON.stringify(this.url)}: ${this.detail}`
  }
}

/**
 * A conversation that got no acceptable reply before its lifetime ended. Ends the conversation's stream.
 * @category errors
 */
export class ConversationTimeout extends Schema.TaggedError<ConversationTimeout>()("ConversationTimeout", {
  kind: Schema.Number,
  eventId: Schema.String,
  afterMillis: Schema.Number
}) {
  override get message() {
    return `conversation for kind ${this.kind} (event ${this.eventId}) expired after ${this.afterMillis} ms`
  }
}

/**
 * A NIP-19 string that does not decode. An input that looks like an `nsec` is withheld.
 * @category errors
 */
export class InvalidBech32 extends Schema.TaggedError<InvalidBech32>()("InvalidBech32", {
  input: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `nip19 ${JSON.stringify(this.input)}: ${this.detail}`
  }
}

/**
 * A NIP-05 identifier that does not resolve or does not verify.
 * @category errors
 */
export class Nip05Error extends Schema.TaggedError<Nip05Error>()("Nip05Error", {
  identifier: Schema.String,
  reason: Schema.Literal("Malformed", "Unreachable", "InvalidResponse", "NotFound", "Mismatch"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `nip05 ${JSON.stringify(this.identifier)}: ${this.reason}: ${this.detail}`
  }
}

/** @category errors */
export type NostrError =
  | InvalidSecretKey
  | InvalidEvent
  | EncryptionError
  | SignerError
  | InvalidRelayUrl
  | ConversationTimeout
  | InvalidBech32
  | Nip05Error

/** @category errors */
export const NostrError = Schema.Union(
  InvalidSecretKey,
  InvalidEvent,
  EncryptionError,
  SignerError,
  InvalidRelayUrl,
  ConversationTimeout,
  InvalidBech32,
  Nip05Error
)
