/**
 * Byte-exact JSON as the reference prints Portal content: compact, object keys sorted at every level (the reference
 * serialises through `serde_json::Value`, a sorted map), `f64` values printed the way Rust's `ryu` does (an integral
 * float keeps a trailing `.0`). Integers are printed as JS prints them; they must be safe integers.
 *
 * A float is marked in the encoded tree by wrapping it in `JsonFloat`; everything else is plain JSON data.
 */
import * as Arr from "effect/Array"
import * as Order from "effect/Order"

/** A JSON number that the reference types as `f64`: printed with `.0` when integral. */
export class JsonFloat {
  constructor(readonly value: number) {}
  /** `JSON.stringify` falls back to the plain number. */
  toJSON(): number {
    return this.value
  }
}

/** A value that cannot be printed as reference JSON (non-finite float, unsafe integer, non-JSON type). */
export class NotJson {
  constructor(
    readonly path: string,
    readonly detail: string
  ) {}
}

/** Formats a finite f64 exactly as Rust's `ryu::Buffer::format_finite` (serde_json's float printer). */
export const formatF64 = (x: number): string => {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0"
  const sign = x < 0 ? "-" : ""
  // toExponential() without an argument gives the shortest round-trip digits, as ryu does.
  const [mantissa, exp] = Math.abs(x).toExponential().split("e") as [string, string]
  const digits = mantissa.replace(".", "")
  const length = digits.length
  const kk = Number(exp) + 1 // value = 0.digits × 10^kk
  const k = kk - length // value = digits × 10^k
  if (k >= 0 && kk <= 16) return `${sign}${digits}${"0".repeat(k)}.0`
  if (kk > 0 && kk <= 16) return `${sign}${digits.slice(0, kk)}.${digits.slice(kk)}`
  if (kk > -5 && kk <= 0) return `${sign}0.${"0".repeat(-kk)}${digits}`
  const e = kk - 1
  return length === 1 ? `${sign}${digits}e${e}` : `${sign}${digits[0]}.${digits.slice(1)}e${e}`
}

const byKey = Order.mapInput(Order.string, ([key]: readonly [string, unknown]) => key)

const write = (value: unknown, path: string, out: Array<string>): NotJson | undefined => {
  if (value === null) {
    out.push("null")
    return undefined
  }
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value))
      return undefined
    case "boolean":
      out.push(value ? "true" : "false")
      return undefined
    case "number":
      if (!Number.isSafeInteger(value)) return new NotJson(path, `expected a safe integer, got ${value}`)
      out.push(String(value))
      return undefined
    case "object": {
      if (value instanceof JsonFloat) {
        if (!Number.isFinite(value.value)) return new NotJson(path, `expected a finite number, got ${value.value}`)
        out.push(formatF64(value.value))
        return undefined
      }
      if (Array.isArray(value)) {
        out.push("[")
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",")
          const error = write(value[i], `${path}[${i}]`, out)
          if (error) return error
        }
        out.push("]")
        return undefined
      }
      const entries = Arr.sort(
        Object.entries(value).filter(([, item]) => item !== undefined),
        byKey
      )
      out.push("{")
      for (let i = 0; i < entries.length; i++) {
        const [key, item] = entries[i]!
        if (i > 0) out.push(",")
        out.push(JSON.stringify(key), ":")
        const error = write(item, path === "" ? key : `${path}.${key}`, out)
        if (error) return error
      }
      out.push("}")
      return undefined
    }
    default:
      return new NotJson(path, `expected JSON data, got a ${typeof value}`)
  }
}

/** Prints an encoded value as reference JSON, or says which part cannot be printed. */
export const stringify = (value: unknown): string | NotJson => {
  const out: Array<string> = []
  const error = write(value, "", out)
  return error ?? out.join("")
}
