/**
 * Every typed error of the Cashu package, one class per decision a caller makes. NUT-00 error codes of a mint map
 * onto them: 11001 → `TokenAlreadySpent`, 11013 → `UnknownUnit`, every other code → `MintRejected` (with the code
 * and the mint's text); transport failures and non-Cashu answers → `MintUnreachable`.
 *
 * Messages never contain a token (bearer money) or a static auth token.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `mintUrl` is not an `http(s)://` URL.
 * @category errors
 */
export class InvalidMintUrl extends Schema.TaggedError<InvalidMintUrl>()("InvalidMintUrl", {
  mintUrl: Schema.String
}) {
  override get message() {
    return `mint_url: expected an http(s) URL, got ${JSON.stringify(this.mintUrl.slice(0, 200))}`
  }
}

/**
 * The mint could not be reached, timed out, or did not answer as a Cashu mint.
 * @category errors
 */
export class MintUnreachable extends Schema.TaggedError<MintUnreachable>()("MintUnreachable", {
  mintUrl: Schema.String,
  op: Schema.String,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `mint ${this.mintUrl} unreachable during ${this.op}: ${this.detail}`
  }
}

/**
 * The mint has no keyset for `unit`.
 * @category errors
 */
export class UnknownUnit extends Schema.TaggedError<UnknownUnit>()("UnknownUnit", {
  mintUrl: Schema.String,
  unit: Schema.String,
  available: Schema.Array(Schema.String)
}) {
  override get message() {
    return `unit: mint ${this.mintUrl} has no keyset for unit ${JSON.stringify(this.unit)} (it has ${
      this.available.length === 0 ? "none" : this.available.join(", ")
    })`
  }
}

/**
 * The token's proofs were already spent at the mint (NUT-00 code 11001).
 * @category errors
 */
export class TokenAlreadySpent extends Schema.TaggedError<TokenAlreadySpent>()("TokenAlreadySpent", {
  mintUrl: Schema.String
}) {
  override get message() {
    return `token: already spent at mint ${this.mintUrl}`
  }
}

/**
 * Not enough ecash (or Lightning balance, for a paid mint) for `needed`.
 * @category errors
 */
export class InsufficientEcash extends Schema.TaggedError<InsufficientEcash>()("InsufficientEcash", {
  unit: Schema.String,
  needed: Schema.Number,
  available: Schema.Number,
  detail: Schema.optional(Schema.String)
}) {
  override get message() {
    return `insufficient funds: ${this.needed} ${this.unit} needed, ${this.available} available${
      this.detail === undefined ? "" : ` (${this.detail})`
    }`
  }
}

/**
 * The token cannot be read, or does not fit the request: `Malformed` (not a `cashuA`/`cashuB` token),
 * `MintMismatch`, `UnitMismatch`, `Empty` (no proofs).
 * @category errors
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  reason: Schema.Literal("Malformed", "MintMismatch", "UnitMismatch", "Empty"),
  detail: Schema.String
}) {
  override get message() {
    return `token: ${this.detail}`
  }
}

/**
 * The mint refused the operation with a NUT-00 error.
 * @category errors
 */
export class MintRejected extends Schema.TaggedError<MintRejected>()("MintRejected", {
  mintUrl: Schema.String,
  op: Schema.String,
  code: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `mint ${this.mintUrl} refused ${this.op}: ${this.detail} (code ${this.code})`
  }
}

/**
 * Minting needed a Lightning payment of the mint's quote and it did not happen: `NoWallet` (no wallet configured),
 * `PaymentFailed` (the wallet refused or failed), `NotPaid` (paid, but the mint did not see it in time).
 * @category errors
 */
export class MintQuoteUnpaid extends Schema.TaggedError<MintQuoteUnpaid>()("MintQuoteUnpaid", {
  mintUrl: Schema.String,
  reason: Schema.Literal("NoWallet", "PaymentFailed", "NotPaid"),
  detail: Schema.String
}) {
  override get message() {
    return `mint ${this.mintUrl} quote not paid (${this.reason}): ${this.detail}`
  }
}

/**
 * New proofs could not be written to the ecash balance (`ProofStore`).
 * @category errors
 */
export class ProofStoreFailed extends Schema.TaggedError<ProofStoreFailed>()("ProofStoreFailed", {
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `ecash balance: ${this.detail}`
  }
}

/** @category errors */
export type CashuError =
  | InvalidMintUrl
  | MintUnreachable
  | UnknownUnit
  | TokenAlreadySpent
  | InsufficientEcash
  | InvalidToken
  | MintRejected
  | MintQuoteUnpaid
  | ProofStoreFailed

/** @category errors */
export const CashuError = Schema.Union(
  InvalidMintUrl,
  MintUnreachable,
  UnknownUnit,
  TokenAlreadySpent,
  InsufficientEcash,
  InvalidToken,
  MintRejected,
  MintQuoteUnpaid,
  ProofStoreFailed
)
