/**
 * Every Nostr event kind Portal uses or reserves (protocol.md §4), named after the reference's constants.
 *
 * All Portal message kinds (24133, 27xxx, 28xxx, 29xxx) are ephemeral (NIP-01 20000–29999): relays forward them live
 * and never store them, so a recipient must be subscribed before the sender publishes. 30000 is addressable and 0 is
 * replaceable. Kind 1 is not sent to relays: it is the signed body of a NIP-05 registration POST (§15.3).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** Kind 0: NIP-01 profile metadata, published in clear. @category kinds */
export const Metadata = 0 as const
/** Kind 1: a text note; Portal only uses it as the signed body of a NIP-05 registration POST. @category kinds */
export const TextNote = 1 as const
/** Kind 24133: NIP-46 remote-signing request/response (wallet side). @category kinds */
export const SigningRequest = 24133 as const

/** Kind 27000: service → wallet authentication challenge. @category kinds */
export const AuthChallenge = 27000 as const
/** Kind 27001: wallet → service authentication response. @category kinds */
export const AuthResponse = 27001 as const
/** Kind 27002: reserved, never sent. @category kinds */
export const AuthSuccess = 27002 as const
/** Kind 27010: wallet → service key handshake (answer to a `portal://` URL). @category kinds */
export const KeyHandshake = 27010 as const

/** Kind 28000: service → wallet single payment request. @category kinds */
export const PaymentRequest = 28000 as const
/** Kind 28001: wallet → service payment status. @category kinds */
export const PaymentResponse = 28001 as const
/** Kind 28002: listened for by the service (payment status content); nobody sends it. @category kinds */
export const PaymentConfirmation = 28002 as const
/** Kind 28003: reserved, never sent. @category kinds */
export const PaymentError = 28003 as const
/** Kind 28004: reserved, never sent. @category kinds */
export const PaymentReceipt = 28004 as const
/** Kind 28005: service → wallet recurring payment (subscription) request. @category kinds */
export const RecurringPaymentRequest = 28005 as const
/** Kind 28006: wallet → service recurring payment response. @category kinds */
export const RecurringPaymentResponse = 28006 as const
/** Kind 28007: close a subscription, either direction, no reply. @category kinds */
export const RecurringPaymentCancel = 28007 as const
/** Kind 28008: invoice request (requester → issuer). @category kinds */
export const InvoiceRequest = 28008 as const
/** Kind 28009: invoice response (issuer → requester). @category kinds */
export const InvoiceResponse = 28009 as const

/** Kinds 29000–29005: identity certificates, defined by the reference but never sent (§16). @category kinds */
export const CertificateKinds = [29000, 29001, 29002, 29003, 29004, 29005] as const

/** Kind 29500: service → wallet Cashu token request. @category kinds */
export const CashuRequest = 29500 as const
/** Kind 29501: wallet → service Cashu response. @category kinds */
export const CashuResponse = 29501 as const
/** Kind 29502: service → wallet Cashu token, fire-and-forget. @category kinds */
export const CashuDirect = 29502 as const

/** Kind 30000: a subkey proof, sent to a requester whose message the subkey could not decrypt. @category kinds */
export const SubkeyProof = 30000 as const

/**
 * The kinds whose NIP-44 encrypted content is a Portal message (every kind of `Messages.contentSchemas` but 0).
 * @category kinds
 */
export const EncryptedContentKinds = [
  AuthChallenge,
  AuthResponse,
  KeyHandshake,
  PaymentRequest,
  PaymentResponse,
  PaymentConfirmation,
  RecurringPaymentRequest,
  RecurringPaymentResponse,
  RecurringPaymentCancel,
  InvoiceRequest,
  InvoiceResponse,
  CashuRequest,
  CashuResponse,
  CashuDirect,
  SubkeyProof
] as const

/**
 * A kind whose content Portal decodes: the encrypted message kinds plus kind 0 metadata.
 * @category kinds
 */
export const ContentKind = Schema.Literal(Metadata, ...EncryptedContentKinds)
/** @category kinds */
export type ContentKind = typeof ContentKind.Type

/**
 * The reference's kind ranges: Auth 27000–27999, Payments 28000–28999, Identity 29000–29499, Cashu 29500–29999,
 * Control 30000–30999.
 * @category kinds
 */
export const Ranges = {
  Auth: { min: 27000, max: 27999 },
  Payments: { min: 28000, max: 28999 },
  Identity: { min: 29000, max: 29499 },
  Cashu: { min: 29500, max: 29999 },
  Control: { min: 30000, max: 30999 }
} as const

/**
 * True for NIP-01 ephemeral kinds (20000–29999): relays do not store them.
 * @category predicates
 */
export const isEphemeral = (kind: number): boolean => kind >= 20000 && kind < 30000
