/**
 * Cashu proofs and tokens as plain data (NUT-00): a `Proof` (keyset id, amount in the keyset's unit, secret, `C`,
 * optional NUT-12 DLEQ), what a serialized token says (`TokenInfo`), and `decode` / `encode` for `cashuB` (and
 * `cashuA` decoding). A token is bearer money: never log it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { InvalidToken } from "./CashuError.js"
import * as CashuTs from "./internal/cashuTs.js"

/**
 * One proof, as stored and sent. `amount` is in the unit of keyset `id`.
 * @category models
 */
export const Proof = Schema.Struct({
  id: Schema.String,
  amount: Schema.Int.pipe(Schema.positive()),
  secret: Schema.String,
  C: Schema.String,
  dleq: Schema.optional(Schema.Struct({ e: Schema.String, s: Schema.String, r: Schema.optional(Schema.String) }))
}).annotations({ identifier: "CashuProof" })
/** @category models */
export type Proof = typeof Proof.Type

/**
 * What a serialized token says, read without asking its mint (the mint URL is the token's claim, untrusted).
 * @category models
 */
export class TokenInfo extends Schema.Class<TokenInfo>("TokenInfo")({
  mintUrl: Schema.String,
  unit: Schema.String,
  amount: Schema.Int.pipe(Schema.nonNegative()),
  proofs: Schema.Int.pipe(Schema.nonNegative()),
  memo: Schema.optional(Schema.String)
}) {}

/**
 * Reads a `cashuA…` / `cashuB…` token.
 * @category tokens
 */
export const decode = (token: string): Effect.Effect<TokenInfo, InvalidToken> =>
  Effect.map(CashuTs.tokenMetadata(token), (meta) => new TokenInfo(meta))

/**
 * Serializes proofs of one mint and unit as a `cashuB` token.
 * @category tokens
 */
export const encode = (input: {
  readonly mintUrl: string
  readonly unit: string
  readonly proofs: ReadonlyArray<Proof>
  readonly memo?: string | undefined
}): Effect.Effect<string> => CashuTs.encodeToken(input)

/**
 * The total of some proofs.
 * @category proofs
 */
export const sum = (proofs: ReadonlyArray<Proof>): number => proofs.reduce((total, proof) => total + proof.amount, 0)
