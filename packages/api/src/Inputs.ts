/**
 * Request input schemas with the REST leniencies and strictness of differences.md §a, §b, §c, §l and §p. They
 * decode what clients send (the official `portal-sdk` included) to the protocol's domain values and encode them back
 * in the daemon's canonical form, so HttpApiClient users send exactly what the reference expects.
 *
 * Every failure message is written for the 400 body (differences.md §i): the server prefixes it with the field path
 * (`payment_request.amount: expected an integer greater than 0, got 0`), except messages that start with `Invalid `,
 * which keep the reference's wording (`Invalid main key: …`, `Invalid calendar: …`) and are sent as they are.
 *
 * @since 0.1.0
 */
import * as Calendar from "@portal/protocol/Calendar"
import * as Currency from "@portal/protocol/Currency"
import * as Primitives from "@portal/protocol/Primitives"
import * as PublicKey from "@portal/protocol/PublicKey"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import { codes as iso4217 } from "./internal/iso4217.js"

/**
 * How a rejected value is shown in a message: JSON for JSON values, `undefined` when absent.
 * @category messages
 */
export const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * An input read as `unknown` (so that any JSON value reaches our own check and message) and documented in OpenAPI
 * with `jsonSchema`; `check` returns the decoded value or the failure message.
 */
const lenient = <A, I>(
  to: Schema.Schema<A, I>,
  jsonSchema: object,
  check: (input: unknown) => Either.Either<I, string>,
  encode: (value: I) => unknown,
  identifier: string
): Schema.Schema<A, unknown> =>
  Schema.transformOrFail(Schema.Unknown.annotations({ jsonSchema }), to, {
    strict: true,
    decode: (input, _options, ast) =>
      Either.mapLeft(check(input), (message) => new ParseResult.Type(ast, input, message)),
    encode: (value) => ParseResult.succeed(encode(value))
  }).annotations({ identifier })

// ---------------------------------------------------------------------------------------------------------------
// Timestamps (§a)
// ---------------------------------------------------------------------------------------------------------------

const U64_MAX = "18446744073709551615"

const isU64Decimal = (s: string): boolean => {
  if (!/^[0-9]+$/.test(s)) return false
  const digits = s.replace(/^0+(?=.)/, "")
  return digits.length < U64_MAX.length || (digits.length === U64_MAX.length && digits <= U64_MAX)
}

/**
 * A request timestamp (differences.md §a): a JSON string of decimal digits up to u64::MAX, or a JSON integer from 0
 * to `Number.MAX_SAFE_INTEGER`; decoded to Unix seconds, encoded as a decimal string (the reference's form). Strings
 * beyond 2^53 s (285 million years, i.e. "never") decode to `Number.MAX_SAFE_INTEGER`.
 * @category timestamps
 */
export const Timestamp: Schema.Schema<Primitives.UnixSeconds, unknown> = lenient(
  Primitives.UnixSeconds,
  {
    description: 'Unix seconds as a decimal string ("1700000000"); a JSON integer is accepted too.',
    oneOf: [
      { type: "string", pattern: "^[0-9]+$" },
      { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER }
    ]
  },
  (input) =>
    (typeof input === "string" && isU64Decimal(input)) ||
    (typeof input === "number" && Number.isSafeInteger(input) && input >= 0)
      ? Either.right(Math.min(Number(input), Number.MAX_SAFE_INTEGER))
      : Either.left(`expected Unix seconds as a decimal string or integer, got ${show(input)}`),
  (seconds) => String(seconds),
  "TimestampInput"
)

// ---------------------------------------------------------------------------------------------------------------
// Currency (§b)
// ---------------------------------------------------------------------------------------------------------------

/**
 * A request currency (differences.md §b): `"Millisats"`/`"msat"` in any case, or an active ISO-4217 code in any case
 * (normalised to uppercase). `"sat"`/`"sats"` are refused with a hint, anything else as unsupported. Encoded as
 * `"Millisats"` or the uppercase code.
 * @category currency
 */
export const CurrencyInput: Schema.Schema<Currency.Currency, unknown> = lenient(
  Schema.typeSchema(Currency.Currency),
  {
    type: "string",
    description: '"Millisats" (or "msat", any case) or an ISO-4217 code such as "EUR" (any case).',
    examples: ["Millisats", "EUR"]
  },
  (input) => {
    if (typeof input === "string") {
      const lower = input.toLowerCase()
      if (lower === "millisats" || lower === "msat") return Either.right(Currency.millisats)
      if (lower === "sat" || lower === "sats") {
        return Either.left(
          `${show(input)} is not accepted; amounts are in millisats: use "Millisats" and multiply by 1000`
        )
      }
      const upper = input.toUpperCase()
      if (/^[A-Za-z]{3}$/.test(input) && iso4217.has(upper)) return Either.right(Currency.fiat(upper))
    }
    return Either.left(`unsupported currency ${show(input)}: expected "Millisats" or an ISO-4217 code such as "EUR"`)
  },
  (currency) => (Currency.isMillisats(currency) ? "Millisats" : currency.code),
  "CurrencyInput"
)

// ---------------------------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------------------------

const integerBetween = (min: number, max: number, identifier: string, description: string) =>
  lenient(
    Schema.Int,
    { type: "integer", minimum: min, maximum: max, description },
    (input) =>
      typeof input === "number" && Number.isSafeInteger(input) && input >= min && input <= max
        ? Either.right(input)
        : Either.left(
            max === Number.MAX_SAFE_INTEGER
              ? min === 0
                ? `expected a non-negative integer, got ${show(input)}`
                : `expected an integer greater than ${min - 1}, got ${show(input)}`
              : `expected an integer from ${min} to ${max}, got ${show(input)}`
          ),
    (n) => n,
    identifier
  )

/**
 * A payment, invoice or Cashu amount: a JSON integer > 0 (differences.md §p), msat or fiat cents per the currency.
 * @category numbers
 */
export const PositiveAmount: Schema.Schema<Primitives.Amount, unknown> = Schema.compose(
  integerBetween(1, Number.MAX_SAFE_INTEGER, "PositiveAmountInput", "An amount greater than 0."),
  Primitives.Amount
)

/**
 * A JSON unsigned 32-bit integer (`max_payments`).
 * @category numbers
 */
export const Uint32 = integerBetween(0, 4294967295, "Uint32Input", "An unsigned 32-bit integer.")

/**
 * `duration_hours` of `POST /jwt/issue`: an integer from 1 to 87600 (differences.md §e).
 * @category numbers
 */
export const DurationHours = integerBetween(1, 87600, "DurationHoursInput", "Hours, from 1 to 87600.")

// ---------------------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------------------

/**
 * A public key in any input form (64-hex in any case, `npub1…`, `nostr:npub1…`), checked to be a curve point
 * (differences.md §p), decoded to lowercase hex. Failures read `Invalid <label>: …` as in the reference.
 * @category keys
 */
export const KeyInput = (label: string): Schema.Schema<Primitives.PublicKeyHex, unknown> =>
  lenient(
    Schema.typeSchema(PublicKey.PublicKey),
    { type: "string", description: "A public key: 64 hex characters, npub1… or nostr:npub1…" },
    (input) =>
      typeof input === "string"
        ? Either.mapLeft(PublicKey.parseEither(input), (error) => `Invalid ${label}: ${error.detail}`)
        : Either.left(`Invalid ${label}: expected a string, got ${show(input)}`),
    (key) => key,
    "PublicKeyInput"
  )

/** @category keys */
export const MainKey = KeyInput("main key")
/**
 * `main_key` as a path parameter.
 * @category keys
 */
export const MainKeyParam: Schema.Schema<Primitives.PublicKeyHex, string> = Schema.compose(Schema.String, MainKey, {
  strict: false
})
/** @category keys */
export const RecipientKey = KeyInput("recipient key")
/** @category keys */
export const TargetKey = KeyInput("target_key")
/** @category keys */
export const Pubkey = KeyInput("pubkey")

/**
 * `subkeys`: optional (absent or `null` means `[]`, differences.md §p); each key as `KeyInput`.
 * @category keys
 */
export const Subkeys = Schema.optionalWith(Schema.Array(KeyInput("subkeys")), {
  nullable: true,
  default: () => []
})

// ---------------------------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------------------------

const formatWithZone = (calendar: Calendar.Calendar): string =>
  Calendar.format(calendar) + Option.match(calendar.timezone, { onNone: () => "", onSome: (zone) => ` ${zone}` })

/**
 * A recurrence calendar (protocol.md §12), parsed at request time: 400 `Invalid calendar: …` (differences.md §p).
 * Encoded in its normalised form, followed by its zone when it has one.
 * @category calendar
 */
export const CalendarInput: Schema.Schema<Calendar.Calendar, unknown> = Schema.transformOrFail(
  Schema.Unknown.annotations({
    jsonSchema: {
      type: "string",
      description: "A calendar: a keyword (daily, monthly…) or `[weekdays] Y-M-D h:m:s [Zone]`."
    }
  }),
  Schema.typeSchema(Calendar.Calendar),
  {
    strict: true,
    decode: (input, _options, ast: AST.Transformation) =>
      typeof input === "string"
        ? Calendar.parse(input).pipe(
            Effect.mapError((error) => new ParseResult.Type(ast, input, `Invalid calendar: ${error.detail}`))
          )
        : ParseResult.fail(new ParseResult.Type(ast, input, `Invalid calendar: expected a string, got ${show(input)}`)),
    encode: (calendar) => ParseResult.succeed(formatWithZone(calendar))
  }
).annotations({ identifier: "CalendarInput" })

// ---------------------------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------------------------

/**
 * A reusable handshake token (differences.md §c): 1–128 characters from `A-Z a-z 0-9 . _ ~ -`.
 * @category strings
 */
export const StaticToken = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9._~-]{1,128}$/, {
    message: () => "use 1–128 characters from A-Z a-z 0-9 . _ ~ -"
  })
).annotations({ identifier: "StaticToken" })

const normalizeRelay = (input: string): string | undefined => {
  if (!/^wss?:\/\//i.test(input)) return undefined
  try {
    const url = new URL(input)
    if ((url.protocol !== "ws:" && url.protocol !== "wss:") || url.hostname === "") return undefined
    return url.href.endsWith("/") ? url.href.slice(0, -1) : url.href
  } catch {
    return undefined
  }
}

/**
 * A relay URL (differences.md §l): `ws://` or `wss://` with a host, normalised (lowercase scheme and host, no
 * default port, no trailing `/`).
 * @category strings
 */
export const RelayUrl: Schema.Schema<string, unknown> = lenient(
  Schema.String,
  { type: "string", description: "A relay URL (ws:// or wss://).", examples: ["wss://relay.example.org"] },
  (input) => {
    const normalized = typeof input === "string" ? normalizeRelay(input) : undefined
    return normalized === undefined ? Either.left("expected a ws:// or wss:// URL") : Either.right(normalized)
  },
  (url) => url,
  "RelayUrlInput"
)

/**
 * A NIP-05 identifier `name@domain`.
 * @category strings
 */
export const Nip05Identifier = Schema.String.pipe(
  Schema.filter((s) => /^[^@\s/]+@[^@\s/]+$/.test(s) || `expected name@domain, got ${show(s)}`)
).annotations({ identifier: "Nip05Identifier" })

/**
 * A non-negative integer in a query string (`?after=3`).
 * @category strings
 */
export const NonNegativeIntFromString: Schema.Schema<number, string> = Schema.transformOrFail(
  Schema.String,
  Schema.Int,
  {
    strict: true,
    decode: (input, _options, ast) =>
      /^[0-9]{1,15}$/.test(input)
        ? ParseResult.succeed(Number(input))
        : ParseResult.fail(new ParseResult.Type(ast, input, `expected a non-negative integer, got ${show(input)}`)),
    encode: (n) => ParseResult.succeed(String(n))
  }
).annotations({ identifier: "NonNegativeIntFromString" })

/**
 * An optional, nullable request field, decoded to `Option` (absent and `null` are both `None`).
 * @category fields
 */
export const optional = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { nullable: true, as: "Option" })
