/**
 * Every typed error of the user package. One class per decision a caller makes; the sub-kind sits in `reason`.
 * Messages name kinds, event ids, keys and relays, never a session token or a secret key.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The request expired before the answer was sent; no reply went out (the Portal app sends none either).
 * @category errors
 */
export class UserRequestExpired extends Schema.TaggedError<UserRequestExpired>()("UserRequestExpired", {
  kind: Schema.Number,
  eventId: Schema.String,
  expiresAt: Schema.Number,
  now: Schema.Number
}) {
  override get message() {
    return `request ${this.eventId} (kind ${this.kind}) expired at ${this.expiresAt}, now is ${this.now}: not answered`
  }
}

/**
 * The request was answered already; the second answer was not sent.
 * @category errors
 */
export class UserAlreadyAnswered extends Schema.TaggedError<UserAlreadyAnswered>()("UserAlreadyAnswered", {
  kind: Schema.Number,
  eventId: Schema.String
}) {
  override get message() {
    return `request ${this.eventId} (kind ${this.kind}) was already answered`
  }
}

/**
 * A message (handshake or reply) could not be built, signed or encrypted, or no relay accepted it.
 * - `Signer` / `Encryption`: the signer refused or failed;
 * - `Encoding`: the content does not encode (a bug in the caller's values, e.g. a bad key);
 * - `SessionToken`: the default session token (a JWT) could not be issued;
 * - `NoRelay`: the URL lists no usable relay;
 * - `NotDelivered`: every relay refused it, timed out or was down (`detail` lists the outcomes).
 * @category errors
 */
export class UserSendFailed extends Schema.TaggedError<UserSendFailed>()("UserSendFailed", {
  kind: Schema.Number,
  reason: Schema.Literal("Signer", "Encryption", "Encoding", "SessionToken", "NoRelay", "NotDelivered"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `cannot send kind ${this.kind}: ${this.reason}: ${this.detail}`
  }
}

/**
 * The `Jwt` service signs with another key than the `Signer`: session tokens would not verify against the user.
 * @category errors
 */
export class UserKeyMismatch extends Schema.TaggedError<UserKeyMismatch>()("UserKeyMismatch", {
  signerKey: Schema.String,
  jwtKey: Schema.String
}) {
  override get message() {
    return `the Jwt service key ${this.jwtKey} is not the signer's key ${this.signerKey}`
  }
}

/**
 * The user's own wallet could not do what an answer needed (make an invoice for a 28008). `NoWallet`: the user side
 * was built without a wallet; `Wallet`: the wallet failed (`detail` is its message, which never holds a secret).
 * Payments are different: a wallet that cannot pay is reported to the service as `failed`, not as this error.
 * @category errors
 */
export class UserWalletFailed extends Schema.TaggedError<UserWalletFailed>()("UserWalletFailed", {
  op: Schema.String,
  reason: Schema.Literal("NoWallet", "Wallet"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `${this.op}: ${this.reason === "NoWallet" ? "the user side has no wallet" : this.detail}`
  }
}

/**
 * No subscription the user authorised has this id.
 * @category errors
 */
export class UserSubscriptionNotFound extends Schema.TaggedError<UserSubscriptionNotFound>()(
  "UserSubscriptionNotFound",
  { subscriptionId: Schema.String }
) {
  override get message() {
    return `subscription_id: no subscription ${this.subscriptionId} was authorised by this user`
  }
}

/** @category errors */
export type UserError =
  | UserRequestExpired
  | UserAlreadyAnswered
  | UserSendFailed
  | UserKeyMismatch
  | UserWalletFailed
  | UserSubscriptionNotFound

/** @category errors */
export const UserError = Schema.Union(
  UserRequestExpired,
  UserAlreadyAnswered,
  UserSendFailed,
  UserKeyMismatch,
  UserWalletFailed,
  UserSubscriptionNotFound
)
