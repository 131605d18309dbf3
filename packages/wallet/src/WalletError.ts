/**
 * Every typed error of the wallet package. One class per decision a caller makes; the sub-kind sits in `reason`.
 *
 * NIP-47 error codes map onto these classes (see `fromNip47Code`): `INSUFFICIENT_BALANCE` →
 * `WalletInsufficientBalance`; `PAYMENT_FAILED`, `QUOTA_EXCEEDED` → `WalletPaymentFailed`; `NOT_IMPLEMENTED`,
 * `RESTRICTED`, `UNSUPPORTED_ENCRYPTION` → `WalletNotSupported`; `NOT_FOUND` → `WalletInvoiceNotFound`;
 * `UNAUTHORIZED`, `RATE_LIMITED`, `INTERNAL`, `OTHER` and unknown codes → `WalletUnreachable`.
 *
 * Messages never contain the NWC connection URL (it holds the client secret) or a preimage.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The configured backend is `none`: every wallet operation fails with this (the daemon answers 400).
 * @category errors
 */
export class WalletNotConfigured extends Schema.TaggedError<WalletNotConfigured>()("WalletNotConfigured", {
  op: Schema.String
}) {
  override get message() {
    return "No Lightning wallet configured: set wallet.ln_backend (PORTAL__WALLET__LN_BACKEND) to nwc"
  }
}

/**
 * The wallet cannot pay: its balance does not cover the amount (plus fees).
 * @category errors
 */
export class WalletInsufficientBalance extends Schema.TaggedError<WalletInsufficientBalance>()(
  "WalletInsufficientBalance",
  {
    op: Schema.String,
    detail: Schema.String
  }
) {
  override get message() {
    return `${this.op}: insufficient balance: ${this.detail}`
  }
}

/**
 * A payment did not go through. `reason`: `Failed` (routing or the payee failed it), `Expired` (the invoice
 * expired), `AlreadyPaid`, `QuotaExceeded` (the NWC connection's budget), `InvalidInvoice` (not a BOLT11 we can
 * pay: malformed, no amount, bad signature, unknown to the network), `SelfPayment`.
 * @category errors
 */
export class WalletPaymentFailed extends Schema.TaggedError<WalletPaymentFailed>()("WalletPaymentFailed", {
  op: Schema.String,
  reason: Schema.Literal("Failed", "Expired", "AlreadyPaid", "QuotaExceeded", "InvalidInvoice", "SelfPayment"),
  detail: Schema.String
}) {
  override get message() {
    return `${this.op}: payment failed (${this.reason}): ${this.detail}`
  }
}

/**
 * The backend does not offer this operation: `NotImplemented` (the wallet lacks the method), `Restricted` (the
 * connection is not allowed to use it), `Encryption` (no common NIP-44/NIP-04 encryption).
 * @category errors
 */
export class WalletNotSupported extends Schema.TaggedError<WalletNotSupported>()("WalletNotSupported", {
  op: Schema.String,
  reason: Schema.Literal("NotImplemented", "Restricted", "Encryption"),
  detail: Schema.String
}) {
  override get message() {
    return `${this.op}: not supported by this wallet backend (${this.reason}): ${this.detail}`
  }
}

/**
 * The backend could not be reached or did not answer usefully: `Connect` (relay or wallet down), `Publish`,
 * `Unauthorized` (the wallet does not know this connection), `RateLimited`, `Internal` (the wallet's own failure),
 * `BadReply` (a reply that does not decode or does not hold, e.g. a preimage that does not hash to the payment
 * hash).
 * @category errors
 */
export class WalletUnreachable extends Schema.TaggedError<WalletUnreachable>()("WalletUnreachable", {
  op: Schema.String,
  reason: Schema.Literal("Connect", "Publish", "Unauthorized", "RateLimited", "Internal", "BadReply"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `${this.op}: wallet backend unreachable (${this.reason}): ${this.detail}`
  }
}

/**
 * The backend did not answer in time (NWC: publish 5 s, reply 60 s by default).
 * @category errors
 */
export class WalletTimeout extends Schema.TaggedError<WalletTimeout>()("WalletTimeout", {
  op: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.op}: wallet timed out: ${this.detail}`
  }
}

/**
 * The wallet knows no invoice with this payment hash.
 * @category errors
 */
export class WalletInvoiceNotFound extends Schema.TaggedError<WalletInvoiceNotFound>()("WalletInvoiceNotFound", {
  op: Schema.String,
  paymentHash: Schema.String
}) {
  override get message() {
    return `${this.op}: no invoice with payment hash ${this.paymentHash}`
  }
}

/**
 * A string that is not a BOLT11 payment request we can use: malformed, or missing the payment hash or timestamp.
 * @category errors
 */
export class InvalidBolt11 extends Schema.TaggedError<InvalidBolt11>()("InvalidBolt11", {
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `bolt11: ${this.detail}`
  }
}

/** @category errors */
export type WalletError =
  | WalletNotConfigured
  | WalletInsufficientBalance
  | WalletPaymentFailed
  | WalletNotSupported
  | WalletUnreachable
  | WalletTimeout
  | WalletInvoiceNotFound
  | InvalidBolt11

/** @category errors */
export const WalletError = Schema.Union(
  WalletNotConfigured,
  WalletInsufficientBalance,
  WalletPaymentFailed,
  WalletNotSupported,
  WalletUnreachable,
  WalletTimeout,
  WalletInvoiceNotFound,
  InvalidBolt11
)

/**
 * The typed error for a NIP-47 error `code` returned by a wallet service for operation `op`.
 * @category nip47
 */
export const fromNip47Code = (op: string, code: string, detail: string, paymentHash?: string): WalletError => {
  switch (code) {
    case "INSUFFICIENT_BALANCE":
      return new WalletInsufficientBalance({ op, detail })
    case "PAYMENT_FAILED":
      return new WalletPaymentFailed({ op, reason: "Failed", detail })
    case "QUOTA_EXCEEDED":
      return new WalletPaymentFailed({ op, reason: "QuotaExceeded", detail })
    case "NOT_IMPLEMENTED":
      return new WalletNotSupported({ op, reason: "NotImplemented", detail })
    case "RESTRICTED":
      return new WalletNotSupported({ op, reason: "Restricted", detail })
    case "UNSUPPORTED_ENCRYPTION":
      return new WalletNotSupported({ op, reason: "Encryption", detail })
    case "NOT_FOUND":
      return new WalletInvoiceNotFound({ op, paymentHash: paymentHash ?? "(unknown)" })
    case "UNAUTHORIZED":
      return new WalletUnreachable({ op, reason: "Unauthorized", detail })
    case "RATE_LIMITED":
      return new WalletUnreachable({ op, reason: "RateLimited", detail })
    default:
      return new WalletUnreachable({ op, reason: "Internal", detail: `${code}: ${detail}` })
  }
}
