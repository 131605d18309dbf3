/**
 * The decrypted content of every Portal message kind (protocol.md §5), as schemas from the wire JSON to domain
 * values, and `decodeContent` / `encodeContent` between JSON text and those values.
 *
 * Wire rules (reference `crates/portal/src/protocol/model.rs` at b473c28), all kept inside these schemas:
 * - field names are snake_case on the wire and camelCase here;
 * - timestamps inside content are decimal strings (a JSON number is rejected), `UnixSeconds` decoded;
 * - optional fields are `Option`s: `null` or a missing field reads as None, and None is always written as `null`
 *   (except kind 0 metadata, where absent fields are left out);
 * - `payment_type` (`"Single"`/`"Recurring"`) and the `status` of auth, recurring and Cashu responses are internal
 *   tags; the payment status is externally tagged (`"approved"`, `{"success":{…}}`…). Domain unions use `_tag`;
 * - keys inside content may arrive as hex, `npub1…` or `nostr:npub1…` and are always written as lowercase hex;
 * - a recurrence calendar must parse and is written in its normalised form, without a timezone;
 * - unknown fields are ignored.
 *
 * `encodeContent` prints the reference's exact bytes: compact JSON, keys sorted at every level, an integral exchange
 * rate with a trailing `.0`. Not reproduced: serde refuses integers written as `1e3` or `10.0`, which `JSON.parse`
 * cannot tell apart from `1000` and `10`, so we accept them; and amounts and content timestamps above 2^53 − 1 are
 * refused (the reference takes any u64), except in subkey metadata, whose timestamps are `bigint`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import * as Calendar from "./Calendar.js"
import { Currency, ExchangeRate } from "./Currency.js"
import { NotJson, stringify } from "./internal/json.js"
import * as Kinds from "./Kinds.js"
import { Amount, TimestampFromString, Uint32 } from "./Primitives.js"
import { InvalidMessage } from "./ProtocolError.js"
import { PublicKeyFromInput } from "./PublicKey.js"
import { SubkeyProof } from "./Subkey.js"

// ---------------------------------------------------------------------------------------------------------------
// Field helpers
// ---------------------------------------------------------------------------------------------------------------

/** A required field whose wire name differs from its domain name. */
const wire = <S extends Schema.Schema.All>(key: string, schema: S) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

/** An optional field: `null` or missing reads as None; None is written as `null`, as the reference does. */
const nullable = <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  Schema.optionalWith(schema, { exact: true, nullable: true, as: "Option", onNoneEncoding: () => Option.some(null) })

/** An internal tag: the wire key `key` holds `wireValue`; the domain `_tag` holds `tag`. */
const tag = <const W extends string, const T extends string>(key: string, wireValue: W, domainTag: T) =>
  Schema.propertySignature(Schema.transformLiteral(wireValue, domainTag)).pipe(Schema.fromKey(key))

/** A refusal internally tagged by `status`, with an optional free-text `reason`. */
const refusal = <const W extends string, const T extends string>(wireValue: W, domainTag: T) =>
  Schema.Struct({ _tag: tag("status", wireValue, domainTag), reason: nullable(Schema.String) })

// ---------------------------------------------------------------------------------------------------------------
// 27010 key handshake
// ---------------------------------------------------------------------------------------------------------------

/**
 * The wallet's name and version, as sent in the handshake (`{"name":"Portal","version":"0.1.0"}`).
 * @category handshake
 */
export const ClientInfo = Schema.Struct({ name: Schema.String, version: Schema.String })
/** @category handshake */
export type ClientInfo = typeof ClientInfo.Type

/**
 * Kind 27010, wallet → service: the URL's token, the wallet's info and the relays it reads from.
 * @category handshake
 */
export const KeyHandshakeContent = Schema.Struct({
  token: Schema.String,
  clientInfo: wire("client_info", ClientInfo),
  preferredRelays: wire("preferred_relays", Schema.Array(Schema.String))
}).annotations({ identifier: "KeyHandshakeContent" })
/** @category handshake */
export type KeyHandshakeContent = typeof KeyHandshakeContent.Type

// ---------------------------------------------------------------------------------------------------------------
// 27000 / 27001 authentication
// ---------------------------------------------------------------------------------------------------------------

/**
 * Kind 27000, service → wallet. `subkeyProof` is present when the service signs with a subkey.
 * @category auth
 */
export const AuthChallengeContent = Schema.Struct({
  challenge: Schema.String,
  expiresAt: wire("expires_at", TimestampFromString),
  requiredPermissions: wire("required_permissions", Schema.Array(Schema.String)),
  subkeyProof: nullable(SubkeyProof).pipe(Schema.fromKey("subkey_proof"))
}).annotations({ identifier: "AuthChallengeContent" })
/** @category auth */
export type AuthChallengeContent = typeof AuthChallengeContent.Type

/**
 * The user approved: wire `{"status":"approved","granted_permissions":[…],"session_token":"…"}`.
 * @category auth
 */
export const AuthApproved = Schema.Struct({
  _tag: tag("status", "approved", "Approved"),
  grantedPermissions: wire("granted_permissions", Schema.Array(Schema.String)),
  sessionToken: wire("session_token", Schema.String)
})
/** @category auth */
export type AuthApproved = typeof AuthApproved.Type

/**
 * The user declined: wire `{"status":"declined","reason":…}`.
 * @category auth
 */
export const AuthDeclined = refusal("declined", "Declined")
/** @category auth */
export type AuthDeclined = typeof AuthDeclined.Type

/**
 * The answer to a challenge, internally tagged by `status`.
 * @category auth
 */
export const AuthResponseStatus = Schema.Union(AuthApproved, AuthDeclined)
/** @category auth */
export type AuthResponseStatus = typeof AuthResponseStatus.Type

/**
 * Kind 27001, wallet → service. `subkeyProof` is present when the wallet signs with a subkey.
 * @category auth
 */
export const AuthResponseContent = Schema.Struct({
  challenge: Schema.String,
  subkeyProof: nullable(SubkeyProof).pipe(Schema.fromKey("subkey_proof")),
  status: AuthResponseStatus
}).annotations({ identifier: "AuthResponseContent" })
/** @category auth */
export type AuthResponseContent = typeof AuthResponseContent.Type

// ---------------------------------------------------------------------------------------------------------------
// Recurrence
// ---------------------------------------------------------------------------------------------------------------

/**
 * A calendar in its normalised wire form (`"*-*-01 00:00:00"`), as `Calendar.format` prints it: no timezone.
 * Parse it with `Calendar.parse` to compute occurrences.
 * @category recurrence
 */
export const NormalizedCalendar = Schema.String.pipe(Schema.brand("NormalizedCalendar")).annotations({
  arbitrary: () => (fc) =>
    fc
      .constantFrom(
        "*-*-* 00:00:00",
        "*-*-01 00:00:00",
        "*-01-01 00:00:00",
        "Mon *-*-* 00:00:00",
        "Mon,Wed,Fri *-*-* 09:30:00",
        "*-*-* *:*:00",
        "2025-*-15 12:00:00",
        "*-01,04,07,10-01 00:00:00"
      )
      .map((calendar) => NormalizedCalendar.make(calendar))
})
/** @category recurrence */
export type NormalizedCalendar = typeof NormalizedCalendar.Type

const normalizeCalendar = (input: string, ast: AST.AST) =>
  Effect.map(Calendar.parse(input), (calendar) => NormalizedCalendar.make(Calendar.format(calendar))).pipe(
    Effect.mapError((error) => new ParseResult.Type(ast, input, error.message))
  )

/**
 * `RecurrenceInfo.calendar`: any calendar expression the grammar accepts (a keyword, a zone…) is decoded to its
 * normalised form, and it is normalised again when encoding, so what we send is always the printed form.
 * @category recurrence
 */
export const CalendarFromWire = Schema.transformOrFail(Schema.String, NormalizedCalendar, {
  strict: true,
  decode: (input, _options, ast) => normalizeCalendar(input, ast),
  encode: (calendar, _options, ast) => normalizeCalendar(calendar, ast)
}).annotations({ identifier: "CalendarFromWire" })

/**
 * When a subscription charges: `calendar` from `firstPaymentDue` on, at most `maxPayments` times, until `until`.
 * @category recurrence
 */
export const RecurrenceInfo = Schema.Struct({
  calendar: CalendarFromWire,
  firstPaymentDue: wire("first_payment_due", TimestampFromString),
  until: nullable(TimestampFromString),
  maxPayments: nullable(Uint32).pipe(Schema.fromKey("max_payments"))
}).annotations({ identifier: "RecurrenceInfo" })
/** @category recurrence */
export type RecurrenceInfo = typeof RecurrenceInfo.Type

// ---------------------------------------------------------------------------------------------------------------
// 28000 / 28005 payment requests
// ---------------------------------------------------------------------------------------------------------------

/**
 * `payment_type:"Single"` (kind 28000): pay `invoice` once. `amount` is msat or fiat cents per `currency`.
 * @category payments
 */
export const SinglePaymentRequest = Schema.Struct({
  _tag: Schema.propertySignature(Schema.Literal("Single")).pipe(Schema.fromKey("payment_type")),
  amount: Amount,
  currency: Currency,
  currentExchangeRate: nullable(ExchangeRate).pipe(Schema.fromKey("current_exchange_rate")),
  invoice: Schema.String,
  authToken: nullable(Schema.String).pipe(Schema.fromKey("auth_token")),
  expiresAt: wire("expires_at", TimestampFromString),
  subscriptionId: nullable(Schema.String).pipe(Schema.fromKey("subscription_id")),
  description: nullable(Schema.String),
  requestId: wire("request_id", Schema.String)
}).annotations({ identifier: "SinglePaymentRequest" })
/** @category payments */
export type SinglePaymentRequest = typeof SinglePaymentRequest.Type

/**
 * `payment_type:"Recurring"` (kind 28005): authorise a subscription. `expiresAt` is the deadline for the answer.
 * @category payments
 */
export const RecurringPaymentRequest = Schema.Struct({
  _tag: Schema.propertySignature(Schema.Literal("Recurring")).pipe(Schema.fromKey("payment_type")),
  amount: Amount,
  currency: Currency,
  recurrence: RecurrenceInfo,
  currentExchangeRate: nullable(ExchangeRate).pipe(Schema.fromKey("current_exchange_rate")),
  expiresAt: wire("expires_at", TimestampFromString),
  authToken: nullable(Schema.String).pipe(Schema.fromKey("auth_token")),
  description: nullable(Schema.String),
  requestId: wire("request_id", Schema.String)
}).annotations({ identifier: "RecurringPaymentRequest" })
/** @category payments */
export type RecurringPaymentRequest = typeof RecurringPaymentRequest.Type

/**
 * Kinds 28000 and 28005: one union internally tagged by `payment_type`; trust the tag, not the kind.
 * @category payments
 */
export const PaymentRequestContent = Schema.Union(SinglePaymentRequest, RecurringPaymentRequest).annotations({
  identifier: "PaymentRequestContent"
})
/** @category payments */
export type PaymentRequestContent = typeof PaymentRequestContent.Type

// ---------------------------------------------------------------------------------------------------------------
// 28001 payment response
// ---------------------------------------------------------------------------------------------------------------

/**
 * `"approved"`: the wallet is paying. Not final.
 * @category payments
 */
export const PaymentApproved = Schema.transform(Schema.Literal("approved"), Schema.TaggedStruct("Approved", {}), {
  strict: true,
  decode: () => ({ _tag: "Approved" as const }),
  encode: () => "approved" as const
})

/**
 * An externally tagged variant: wire `{"<key>":{…fields}}` (exactly one key, as serde requires), domain
 * `{_tag, …fields}`.
 */
const externallyTagged = <const K extends string, const T extends string, F extends Schema.Struct.Fields>(
  key: K,
  domainTag: T,
  fields: F
) =>
  Schema.transform(
    Schema.Record({ key: Schema.Literal(key), value: Schema.Object }).annotations({
      parseOptions: { onExcessProperty: "error" }
    }),
    Schema.Struct({ _tag: Schema.Literal(domainTag), ...fields }),
    {
      strict: false,
      decode: (variant) => ({ ...variant[key], _tag: domainTag }),
      encode: (value: Readonly<Record<string, unknown>>) => {
        const { _tag, ...inner } = value
        return { [key]: inner }
      }
    }
  )

/**
 * `{"success":{"preimage":…}}`: final. The preimage is not reliable (the Portal app sends `""`); decide "paid" from
 * the invoice.
 * @category payments
 */
export const PaymentSuccess = externallyTagged("success", "Success", { preimage: nullable(Schema.String) })

/**
 * `{"rejected":{"reason":…}}`: the user declined. Final.
 * @category payments
 */
export const PaymentRejected = externallyTagged("rejected", "Rejected", { reason: nullable(Schema.String) })

/**
 * `{"failed":{"reason":…}}`: the wallet could not pay. Final.
 * @category payments
 */
export const PaymentFailed = externallyTagged("failed", "Failed", { reason: nullable(Schema.String) })

/**
 * A payment status, externally tagged on the wire.
 * @category payments
 */
export const PaymentStatus = Schema.Union(PaymentApproved, PaymentSuccess, PaymentRejected, PaymentFailed)
/** @category payments */
export type PaymentStatus = typeof PaymentStatus.Type

/**
 * Kind 28001 (and 28002), wallet → service: one status update for `requestId`.
 * @category payments
 */
export const PaymentResponseContent = Schema.Struct({
  requestId: wire("request_id", Schema.String),
  status: PaymentStatus
}).annotations({ identifier: "PaymentResponseContent" })
/** @category payments */
export type PaymentResponseContent = typeof PaymentResponseContent.Type

// ---------------------------------------------------------------------------------------------------------------
// 28006 recurring response, 28007 close
// ---------------------------------------------------------------------------------------------------------------

/**
 * The subscription is authorised: the wallet mints `subscriptionId` and echoes what it authorised.
 * @category subscriptions
 */
export const RecurringConfirmed = Schema.Struct({
  _tag: tag("status", "confirmed", "Confirmed"),
  subscriptionId: wire("subscription_id", Schema.String),
  authorizedAmount: wire("authorized_amount", Amount),
  authorizedCurrency: wire("authorized_currency", Currency),
  authorizedRecurrence: wire("authorized_recurrence", RecurrenceInfo)
})
/** @category subscriptions */
export type RecurringConfirmed = typeof RecurringConfirmed.Type

/**
 * The subscription is refused.
 * @category subscriptions
 */
export const RecurringRejected = refusal("rejected", "Rejected")
/** @category subscriptions */
export type RecurringRejected = typeof RecurringRejected.Type

/**
 * The answer to a recurring request, internally tagged by `status`.
 * @category subscriptions
 */
export const RecurringPaymentStatus = Schema.Union(RecurringConfirmed, RecurringRejected)
/** @category subscriptions */
export type RecurringPaymentStatus = typeof RecurringPaymentStatus.Type

/**
 * Kind 28006, wallet → service.
 * @category subscriptions
 */
export const RecurringPaymentResponseContent = Schema.Struct({
  requestId: wire("request_id", Schema.String),
  status: RecurringPaymentStatus
}).annotations({ identifier: "RecurringPaymentResponseContent" })
/** @category subscriptions */
export type RecurringPaymentResponseContent = typeof RecurringPaymentResponseContent.Type

/**
 * Kind 28007, either direction, no reply: `byService` is true when the service closes.
 * @category subscriptions
 */
export const CloseRecurringPaymentContent = Schema.Struct({
  subscriptionId: wire("subscription_id", Schema.String),
  reason: nullable(Schema.String),
  byService: wire("by_service", Schema.Boolean)
}).annotations({ identifier: "CloseRecurringPaymentContent" })
/** @category subscriptions */
export type CloseRecurringPaymentContent = typeof CloseRecurringPaymentContent.Type

// ---------------------------------------------------------------------------------------------------------------
// 28008 / 28009 invoices
// ---------------------------------------------------------------------------------------------------------------

/**
 * Kind 28008, requester → issuer: "send me an invoice for `amount`".
 * @category invoices
 */
export const InvoiceRequestContent = Schema.Struct({
  requestId: wire("request_id", Schema.String),
  amount: Amount,
  currency: Currency,
  currentExchangeRate: nullable(ExchangeRate).pipe(Schema.fromKey("current_exchange_rate")),
  expiresAt: wire("expires_at", TimestampFromString),
  description: nullable(Schema.String),
  refundInvoice: nullable(Schema.String).pipe(Schema.fromKey("refund_invoice"))
}).annotations({ identifier: "InvoiceRequestContent" })
/** @category invoices */
export type InvoiceRequestContent = typeof InvoiceRequestContent.Type

/**
 * A request echoed in its response: `inner` is the request, `mainKey` the requester's main key as the responder
 * resolved it, `recipient` the key that signed the request.
 * @category requests
 */
export const EchoedRequest = <A, I, R>(inner: Schema.Schema<A, I, R>) =>
  Schema.Struct({
    inner,
    mainKey: wire("main_key", PublicKeyFromInput),
    recipient: PublicKeyFromInput
  })

/**
 * Kind 28009, issuer → requester: the BOLT11 `invoice` for the echoed request (match on `request.inner.requestId`).
 * @category invoices
 */
export const InvoiceResponse = Schema.Struct({
  request: EchoedRequest(InvoiceRequestContent),
  invoice: Schema.String,
  paymentHash: nullable(Schema.String).pipe(Schema.fromKey("payment_hash"))
}).annotations({ identifier: "InvoiceResponse" })
/** @category invoices */
export type InvoiceResponse = typeof InvoiceResponse.Type

// ---------------------------------------------------------------------------------------------------------------
// 29500 / 29501 / 29502 Cashu
// ---------------------------------------------------------------------------------------------------------------

/**
 * Kind 29500, service → wallet: "send me a token of `amount` `unit` from `mintUrl`". The amount is in the Cashu
 * unit (`sat`, `msat`, `usd`…), not a Portal `Amount`.
 * @category cashu
 */
export const CashuRequestContent = Schema.Struct({
  requestId: wire("request_id", Schema.String),
  mintUrl: wire("mint_url", Schema.String),
  unit: Schema.String,
  amount: Schema.NonNegativeInt,
  expiresAt: wire("expires_at", TimestampFromString)
}).annotations({ identifier: "CashuRequestContent" })
/** @category cashu */
export type CashuRequestContent = typeof CashuRequestContent.Type

/**
 * The wallet sends a serialized Cashu token (`cashuA…`/`cashuB…`): bearer money, never log it.
 * @category cashu
 */
export const CashuSuccess = Schema.Struct({ _tag: tag("status", "success", "Success"), token: Schema.String })
/** @category cashu */
export type CashuSuccess = typeof CashuSuccess.Type

/** @category cashu */
export const CashuInsufficientFunds = Schema.Struct({
  _tag: tag("status", "insufficient_funds", "InsufficientFunds")
})
/** @category cashu */
export type CashuInsufficientFunds = typeof CashuInsufficientFunds.Type

/** @category cashu */
export const CashuRejected = refusal("rejected", "Rejected")
/** @category cashu */
export type CashuRejected = typeof CashuRejected.Type

/**
 * The answer to a Cashu request, internally tagged by `status`.
 * @category cashu
 */
export const CashuResponseStatus = Schema.Union(CashuSuccess, CashuInsufficientFunds, CashuRejected)
/** @category cashu */
export type CashuResponseStatus = typeof CashuResponseStatus.Type

/**
 * Kind 29501, wallet → service.
 * @category cashu
 */
export const CashuResponseContent = Schema.Struct({
  request: EchoedRequest(CashuRequestContent),
  status: CashuResponseStatus
}).annotations({ identifier: "CashuResponseContent" })
/** @category cashu */
export type CashuResponseContent = typeof CashuResponseContent.Type

/**
 * Kind 29502, service → wallet, fire-and-forget: a Cashu token (bearer money, never log it).
 * @category cashu
 */
export const CashuDirectContent = Schema.Struct({ token: Schema.String }).annotations({
  identifier: "CashuDirectContent"
})
/** @category cashu */
export type CashuDirectContent = typeof CashuDirectContent.Type

// ---------------------------------------------------------------------------------------------------------------
// Kind 0 metadata
// ---------------------------------------------------------------------------------------------------------------

const profileField = Schema.optionalWith(Schema.String, { exact: true, nullable: true, as: "Option" })

/**
 * Kind 0 NIP-01 metadata, in clear. Portal reads and writes only these four fields; absent ones are left out (not
 * `null`), and other NIP-01 fields are dropped.
 * @category profile
 */
export const Profile = Schema.Struct({
  name: profileField,
  displayName: profileField.pipe(Schema.fromKey("display_name")),
  picture: profileField,
  nip05: profileField
}).annotations({ identifier: "Profile" })
/** @category profile */
export type Profile = typeof Profile.Type

// ---------------------------------------------------------------------------------------------------------------
// Kinds → schemas, JSON text
// ---------------------------------------------------------------------------------------------------------------

/**
 * The content schema of every kind Portal decodes.
 * @category kinds
 */
export const contentSchemas = {
  [Kinds.Metadata]: Profile,
  [Kinds.AuthChallenge]: AuthChallengeContent,
  [Kinds.AuthResponse]: AuthResponseContent,
  [Kinds.KeyHandshake]: KeyHandshakeContent,
  [Kinds.PaymentRequest]: PaymentRequestContent,
  [Kinds.PaymentResponse]: PaymentResponseContent,
  [Kinds.PaymentConfirmation]: PaymentResponseContent,
  [Kinds.RecurringPaymentRequest]: PaymentRequestContent,
  [Kinds.RecurringPaymentResponse]: RecurringPaymentResponseContent,
  [Kinds.RecurringPaymentCancel]: CloseRecurringPaymentContent,
  [Kinds.InvoiceRequest]: InvoiceRequestContent,
  [Kinds.InvoiceResponse]: InvoiceResponse,
  [Kinds.CashuRequest]: CashuRequestContent,
  [Kinds.CashuResponse]: CashuResponseContent,
  [Kinds.CashuDirect]: CashuDirectContent,
  [Kinds.SubkeyProof]: SubkeyProof
} as const satisfies Record<Kinds.ContentKind, Schema.Schema.AnyNoContext>

/**
 * The decoded content of kind `K`.
 * @category kinds
 */
export type ContentOf<K extends Kinds.ContentKind> = Schema.Schema.Type<(typeof contentSchemas)[K]>

/** The kind reported in errors for a schema: the first kind that uses it, or -1 for a part of a message. */
const kindOf = (schema: Schema.Schema.Any): number => {
  for (const [kind, candidate] of Object.entries(contentSchemas)) {
    if (candidate === schema) return Number(kind)
  }
  return -1
}

/** Names the field and the problem, never the value: content carries tokens and invoices. */
const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const path = issue.path.length === 0 ? "content" : issue.path.map(String).join(".")
      return `${path}: ${issue.message.replace(/, actual [\s\S]*$/, "")}`
    })
    .join("; ")

const parseJson = (text: string, kind: number): Either.Either<unknown, InvalidMessage> =>
  Either.try({
    try: () => JSON.parse(text) as unknown,
    catch: () => new InvalidMessage({ kind, detail: "content is not valid JSON" })
  })

/**
 * Decodes JSON content text, given its kind or the schema to decode with. Fails with `InvalidMessage` naming the
 * field at fault (not its value); the error's `kind` is -1 for a schema that is not a whole message.
 * @category codec
 */
export function decodeContent<K extends Kinds.ContentKind>(
  kind: K,
  text: string
): Effect.Effect<ContentOf<K>, InvalidMessage>
export function decodeContent<A, I>(schema: Schema.Schema<A, I, never>, text: string): Effect.Effect<A, InvalidMessage>
export function decodeContent(
  kindOrSchema: Kinds.ContentKind | Schema.Schema.AnyNoContext,
  text: string
): Effect.Effect<unknown, InvalidMessage> {
  const schema: Schema.Schema.AnyNoContext =
    typeof kindOrSchema === "number" ? contentSchemas[kindOrSchema] : kindOrSchema
  const kind = typeof kindOrSchema === "number" ? kindOrSchema : kindOf(kindOrSchema)
  return Effect.flatMap(parseJson(text, kind), (json) =>
    Schema.decodeUnknown(schema)(json).pipe(
      Effect.mapError((error) => new InvalidMessage({ kind, detail: describe(error) }))
    )
  )
}

/**
 * Encodes a value as the exact JSON text the reference emits: compact, keys sorted at every level, `null` for None,
 * timestamps as strings, an integral exchange rate as `95000.0`.
 * @category codec
 */
export const encodeContent = <A, I>(
  schema: Schema.Schema<A, I, never>,
  value: A
): Effect.Effect<string, InvalidMessage> =>
  Schema.encode(schema)(value).pipe(
    Effect.mapError((error) => new InvalidMessage({ kind: kindOf(schema), detail: describe(error) })),
    Effect.flatMap((encoded) => {
      const text = stringify(encoded)
      return text instanceof NotJson
        ? Effect.fail(new InvalidMessage({ kind: kindOf(schema), detail: `${text.path}: ${text.detail}` }))
        : Effect.succeed(text)
    })
  )
