/**
 * The only file importing `light-bolt11-decoder` (ecosystem.md §11): BOLT11 → its sections. It does not verify the
 * signature. Throws on malformed input; callers wrap it in `Effect.try`.
 *
 * @internal
 */
import { decode } from "light-bolt11-decoder"

/** The fields we read, still unvalidated: `Bolt11.decode` runs them through a schema. */
export interface RawInvoice {
  readonly amount: string | undefined
  readonly payment_hash: string | undefined
  readonly description: string | undefined
  readonly timestamp: number | undefined
  readonly expiry: number
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined)
const num = (v: unknown) => (typeof v === "number" ? v : undefined)

export const decodeRaw = (bolt11: string): RawInvoice => {
  const decoded = decode(bolt11)
  const section = (name: string): unknown => decoded.sections.find((s) => s.name === name)
  const value = (name: string): unknown => {
    const s = section(name)
    return typeof s === "object" && s !== null && "value" in s ? s.value : undefined
  }
  return {
    amount: str(value("amount")),
    payment_hash: str(value("payment_hash")),
    description: str(value("description")),
    timestamp: num(value("timestamp")),
    expiry: decoded.expiry
  }
}
