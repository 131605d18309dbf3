/**
 * The only file importing `@atomiqlabs/bolt11` (ecosystem.md §11): encodes and signs BOLT11 invoices for the
 * simulated Lightning network, and recovers the payee node key from a signature. Pure JS; throws on bad input,
 * so callers wrap every call in `Effect.try`.
 *
 * @internal
 */
import * as bolt11 from "@atomiqlabs/bolt11"

export interface EncodeInput {
  readonly amountMsat: number
  readonly timestamp: number
  readonly paymentHashHex: string
  readonly paymentSecretHex: string
  readonly description: string
  readonly expirySecs: number
  readonly nodePrivateKeyHex: string
}

/** A signed mainnet (`lnbc…`) payment request. */
export const encodeSigned = (input: EncodeInput): string => {
  const unsigned = bolt11.encode({
    millisatoshis: String(input.amountMsat),
    timestamp: input.timestamp,
    tags: [
      { tagName: "payment_hash", data: input.paymentHashHex },
      { tagName: "payment_secret", data: input.paymentSecretHex },
      { tagName: "description", data: input.description },
      { tagName: "expire_time", data: input.expirySecs },
      { tagName: "min_final_cltv_expiry", data: 18 }
    ]
  })
  const signed = bolt11.sign(unsigned, input.nodePrivateKeyHex).paymentRequest
  if (signed === undefined) throw new Error("bolt11.sign returned no payment request")
  return signed
}

/** Verifies the signature and returns the node key that signed it (33-byte compressed, hex). */
export const payeeNodeKey = (paymentRequest: string): string => {
  const key = bolt11.decode(paymentRequest).payeeNodeKey
  if (key === undefined) throw new Error("no payee node key")
  return key
}
