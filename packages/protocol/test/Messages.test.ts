import { assert, describe, it } from "@effect/vitest"
import * as Currency from "@portal/protocol/Currency"
import * as Kinds from "@portal/protocol/Kinds"
import * as Messages from "@portal/protocol/Messages"
import * as Primitives from "@portal/protocol/Primitives"
import { InvalidMessage } from "@portal/protocol/ProtocolError"
import * as Subkey from "@portal/protocol/Subkey"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import { load, metadataFromVector } from "./sharedVectors.js"

type Json = Record<string, any>

const vectors = load("messages.json")

// ---------------------------------------------------------------------------------------------------------------
// The vectors' decoded form (wire shape, timestamps as numbers) → our domain values
// ---------------------------------------------------------------------------------------------------------------

const ts = (n: number) => Primitives.UnixSeconds.make(n)
const opt = <A>(value: A | null | undefined): Option.Option<A> => Option.fromNullable(value)
const key = (hex: string) => Primitives.PublicKeyHex.make(hex)
const amount = (n: number) => Primitives.Amount.make(n)
const currency = (wire: string) => (wire === "Millisats" ? Currency.millisats : Currency.fiat(wire))
const rate = (r: Json | null): Option.Option<Currency.ExchangeRate> =>
  r === null ? Option.none() : Option.some({ rate: r.rate, source: r.source, time: ts(r.time) })
const recurrence = (r: Json): Messages.RecurrenceInfo => ({
  calendar: Messages.NormalizedCalendar.make(r.calendar),
  firstPaymentDue: ts(r.first_payment_due),
  until: Option.map(opt<number>(r.until), ts),
  maxPayments: opt(r.max_payments)
})
const subkeyProof = (p: Json): Subkey.SubkeyProof => ({
  mainKey: key(p.main_key),
  metadata: metadataFromVector(p.metadata)
})
const echoed = <A>(r: Json, inner: (j: Json) => A) => ({
  inner: inner(r.inner),
  mainKey: key(r.main_key),
  recipient: key(r.recipient)
})

const invoiceRequest = (d: Json): Messages.InvoiceRequestContent => ({
  requestId: d.request_id,
  amount: amount(d.amount),
  currency: currency(d.currency),
  currentExchangeRate: rate(d.current_exchange_rate),
  expiresAt: ts(d.expires_at),
  description: opt(d.description),
  refundInvoice: opt(d.refund_invoice)
})

const cashuRequest = (d: Json): Messages.CashuRequestContent => ({
  requestId: d.request_id,
  mintUrl: d.mint_url,
  unit: d.unit,
  amount: d.amount,
  expiresAt: ts(d.expires_at)
})

const paymentStatus = (s: Json | string): Messages.PaymentStatus => {
  if (s === "approved") return { _tag: "Approved" }
  if (typeof s === "string") throw new Error(`unexpected status ${s}`)
  if ("success" in s) return { _tag: "Success", preimage: opt(s.success.preimage) }
  if ("rejected" in s) return { _tag: "Rejected", reason: opt(s.rejected.reason) }
  return { _tag: "Failed", reason: opt(s.failed.reason) }
}

const paymentRequest = (d: Json): Messages.PaymentRequestContent => {
  const common = {
    amount: amount(d.amount),
    currency: currency(d.currency),
    currentExchangeRate: rate(d.current_exchange_rate),
    authToken: opt(d.auth_token),
    expiresAt: ts(d.expires_at),
    description: opt(d.description),
    requestId: d.request_id
  }
  return d.payment_type === "Single"
    ? { _tag: "Single", ...common, invoice: d.invoice, subscriptionId: opt(d.subscription_id) }
    : { _tag: "Recurring", ...common, recurrence: recurrence(d.recurrence) }
}

/** Per vector `type`: our schema and the mapping of the vector's decoded form to its domain value. */
const types: Record<string, { schema: Schema.Schema.AnyNoContext; fromVector: (d: Json) => unknown }> = {
  KeyHandshakeContent: {
    schema: Messages.KeyHandshakeContent,
    fromVector: (d): Messages.KeyHandshakeContent => ({
      token: d.token,
      clientInfo: { name: d.client_info.name, version: d.client_info.version },
      preferredRelays: d.preferred_relays
    })
  },
  AuthChallengeContent: {
    schema: Messages.AuthChallengeContent,
    fromVector: (d): Messages.AuthChallengeContent => ({
      challenge: d.challenge,
      expiresAt: ts(d.expires_at),
      requiredPermissions: d.required_permissions,
      subkeyProof: Option.map(opt<Json>(d.subkey_proof), subkeyProof)
    })
  },
  AuthResponseContent: {
    schema: Messages.AuthResponseContent,
    fromVector: (d): Messages.AuthResponseContent => ({
      challenge: d.challenge,
      subkeyProof: Option.map(opt<Json>(d.subkey_proof), subkeyProof),
      status:
        d.status.status === "approved"
          ? {
              _tag: "Approved",
              grantedPermissions: d.status.granted_permissions,
              sessionToken: d.status.session_token
            }
          : { _tag: "Declined", reason: opt(d.status.reason) }
    })
  },
  PaymentRequestContent: { schema: Messages.PaymentRequestContent, fromVector: paymentRequest },
  PaymentResponseContent: {
    schema: Messages.PaymentResponseContent,
    fromVector: (d): Messages.PaymentResponseContent => ({ requestId: d.request_id, status: paymentStatus(d.status) })
  },
  RecurringPaymentResponseContent: {
    schema: Messages.RecurringPaymentResponseContent,
    fromVector: (d): Messages.RecurringPaymentResponseContent => ({
      requestId: d.request_id,
      status:
        d.status.status === "confirmed"
          ? {
              _tag: "Confirmed",
              subscriptionId: d.status.subscription_id,
              authorizedAmount: amount(d.status.authorized_amount),
              authorizedCurrency: currency(d.status.authorized_currency),
              authorizedRecurrence: recurrence(d.status.authorized_recurrence)
            }
          : { _tag: "Rejected", reason: opt(d.status.reason) }
    })
  },
  CloseRecurringPaymentContent: {
    schema: Messages.CloseRecurringPaymentContent,
    fromVector: (d): Messages.CloseRecurringPaymentContent => ({
      subscriptionId: d.subscription_id,
      reason: opt(d.reason),
      byService: d.by_service
    })
  },
  InvoiceRequestContent: { schema: Messages.InvoiceRequestContent, fromVector: invoiceRequest },
  InvoiceResponse: {
    schema: Messages.InvoiceResponse,
    fromVector: (d): Messages.InvoiceResponse => ({
      request: echoed(d.request, invoiceRequest),
      invoice: d.invoice,
      paymentHash: opt(d.payment_hash)
    })
  },
  CashuRequestContent: { schema: Messages.CashuRequestContent, fromVector: cashuRequest },
  CashuResponseContent: {
    schema: Messages.CashuResponseContent,
    fromVector: (d): Messages.CashuResponseContent => ({
      request: echoed(d.request, cashuRequest),
      status:
        d.status.status === "success"
          ? { _tag: "Success", token: d.status.token }
          : d.status.status === "insufficient_funds"
            ? { _tag: "InsufficientFunds" }
            : { _tag: "Rejected", reason: opt(d.status.reason) }
    })
  },
  CashuDirectContent: {
    schema: Messages.CashuDirectContent,
    fromVector: (d): Messages.CashuDirectContent => ({ token: d.token })
  },
  SubkeyProof: { schema: Subkey.SubkeyProof, fromVector: subkeyProof },
  Profile: {
    schema: Messages.Profile,
    fromVector: (d): Messages.Profile => ({
      name: opt(d.name),
      displayName: opt(d.display_name),
      picture: opt(d.picture),
      nip05: opt(d.nip05)
    })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Every vector of messages.json
// ---------------------------------------------------------------------------------------------------------------

describe("Messages vectors", () => {
  it("messages.json covers every content kind, and every vector has one of the three shapes", () => {
    const kinds = new Set(vectors.map((v) => v.kind))
    for (const kind of Kinds.ContentKind.literals) {
      if (kind !== Kinds.PaymentConfirmation) assert.isTrue(kinds.has(kind), `kind ${kind}`)
    }
    for (const v of vectors) {
      assert.isTrue(v.canonical === true || v.canonical === false || v.reference_rejects === true, v.name)
      assert.property(types, v.type)
    }
  })

  for (const v of vectors) {
    const { fromVector, schema } = types[v.type]!
    const kind = v.kind as Kinds.ContentKind

    it(`${v.name}: kind ${v.kind} decodes with the ${v.type} schema`, () => {
      assert.strictEqual<unknown>(Messages.contentSchemas[kind], schema)
    })

    if (v.reference_rejects) {
      it.effect(`${v.name}: rejected (${v.why})`, () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(Messages.decodeContent(kind, v.wire))
          assert.instanceOf(error, InvalidMessage)
          assert.strictEqual(error.kind, v.kind)
          const viaSchema = yield* Effect.flip(Messages.decodeContent(schema, v.wire))
          assert.strictEqual(viaSchema.kind, kind === Kinds.RecurringPaymentRequest ? Kinds.PaymentRequest : v.kind)
        })
      )
    } else {
      it.effect(`${v.name}: decodes to the expected value and encodes byte for byte`, () =>
        Effect.gen(function* () {
          const decoded = yield* Messages.decodeContent(kind, v.wire)
          assert.deepStrictEqual(decoded, fromVector(v.decoded))
          const encoded = yield* Messages.encodeContent(schema, decoded)
          assert.strictEqual(encoded, v.canonical ? v.wire : v.reencoded)
          if (!v.canonical) {
            assert.deepStrictEqual(yield* Messages.decodeContent(kind, v.reencoded), decoded)
          }
        })
      )
    }
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Behaviour beyond the vectors
// ---------------------------------------------------------------------------------------------------------------

describe("Messages", () => {
  const fiatWire = vectors.find((v) => v.name === "single payment in fiat")!.wire as string

  it.effect("an integral exchange rate is written with a trailing .0, and read back", () =>
    Effect.gen(function* () {
      const wire = fiatWire.replace('"rate":91234.56', '"rate":95000')
      const decoded = yield* Messages.decodeContent(Kinds.PaymentRequest, wire)
      const encoded = yield* Messages.encodeContent(Messages.PaymentRequestContent, decoded)
      assert.strictEqual(encoded, fiatWire.replace('"rate":91234.56', '"rate":95000.0'))
      assert.deepStrictEqual(yield* Messages.decodeContent(Kinds.PaymentRequest, encoded), decoded)
    })
  )

  it.effect("text that is not JSON is an InvalidMessage that does not echo the text", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Messages.decodeContent(Kinds.CashuDirect, '{"token":"cashuBsecret'))
      assert.strictEqual(error.kind, Kinds.CashuDirect)
      assert.notInclude(error.detail, "cashuBsecret")
    })
  )

  it.effect("errors name the field but not the value", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Messages.decodeContent(Kinds.CashuDirect, '{"token":{"proofs":"cashuBsecret"}}'))
      assert.include(error.detail, "token")
      assert.notInclude(error.detail, "cashuBsecret")
    })
  )

  it.effect("an invalid calendar makes the whole request fail to decode", () =>
    Effect.gen(function* () {
      const wire = vectors.find((v) => v.name === "recurring payment monthly")!.wire as string
      const error = yield* Effect.flip(
        Messages.decodeContent(Kinds.RecurringPaymentRequest, wire.replace("*-*-01 00:00:00", "every tuesday"))
      )
      assert.include(error.detail, "calendar")
    })
  )

  it.effect("an externally tagged status with a second key is rejected, as serde does", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Messages.decodeContent(
          Kinds.PaymentResponse,
          '{"request_id":"r","status":{"success":{"preimage":null},"failed":{"reason":null}}}'
        )
      )
      assert.instanceOf(error, InvalidMessage)
    })
  )

  it.effect("a value that breaks its schema is refused when encoding", () =>
    Effect.gen(function* () {
      const value: Messages.CashuRequestContent = {
        requestId: "r",
        mintUrl: "https://mint.example.com",
        unit: "sat",
        amount: -1,
        expiresAt: ts(1700000300)
      }
      const error = yield* Effect.flip(Messages.encodeContent(Messages.CashuRequestContent, value))
      assert.strictEqual(error.kind, Kinds.CashuRequest)
      assert.include(error.detail, "amount")
    })
  )
})

// ---------------------------------------------------------------------------------------------------------------
// decode(encode(x)) = x for every message schema
// (`it.live.prop`: nothing here reads the clock, and `it.effect.prop` builds a fresh TestContext for each of the
// 100 runs, which made this pure file take ~20 s)
// ---------------------------------------------------------------------------------------------------------------

const roundTrip =
  <A, I>(schema: Schema.Schema<A, I, never>) =>
  ([value]: readonly [A]) =>
    Effect.gen(function* () {
      const text = yield* Messages.encodeContent(schema, value)
      assert.deepStrictEqual(yield* Messages.decodeContent(schema, text), value)
      assert.strictEqual(yield* Messages.encodeContent(schema, yield* Messages.decodeContent(schema, text)), text)
    })

describe("Messages round trip", () => {
  it.live.prop("KeyHandshakeContent", [Messages.KeyHandshakeContent], roundTrip(Messages.KeyHandshakeContent))
  it.live.prop("AuthChallengeContent", [Messages.AuthChallengeContent], roundTrip(Messages.AuthChallengeContent))
  it.live.prop("AuthResponseContent", [Messages.AuthResponseContent], roundTrip(Messages.AuthResponseContent))
  it.live.prop("PaymentRequestContent", [Messages.PaymentRequestContent], roundTrip(Messages.PaymentRequestContent))
  it.live.prop("PaymentResponseContent", [Messages.PaymentResponseContent], roundTrip(Messages.PaymentResponseContent))
  it.live.prop(
    "RecurringPaymentResponseContent",
    [Messages.RecurringPaymentResponseContent],
    roundTrip(Messages.RecurringPaymentResponseContent)
  )
  it.live.prop(
    "CloseRecurringPaymentContent",
    [Messages.CloseRecurringPaymentContent],
    roundTrip(Messages.CloseRecurringPaymentContent)
  )
  it.live.prop("InvoiceRequestContent", [Messages.InvoiceRequestContent], roundTrip(Messages.InvoiceRequestContent))
  it.live.prop("InvoiceResponse", [Messages.InvoiceResponse], roundTrip(Messages.InvoiceResponse))
  it.live.prop("CashuRequestContent", [Messages.CashuRequestContent], roundTrip(Messages.CashuRequestContent))
  it.live.prop("CashuResponseContent", [Messages.CashuResponseContent], roundTrip(Messages.CashuResponseContent))
  it.live.prop("CashuDirectContent", [Messages.CashuDirectContent], roundTrip(Messages.CashuDirectContent))
  it.live.prop("SubkeyProof", [Subkey.SubkeyProof], roundTrip(Subkey.SubkeyProof))
  it.live.prop("Profile", [Messages.Profile], roundTrip(Messages.Profile))
  it.live.prop("RecurrenceInfo", [Messages.RecurrenceInfo], roundTrip(Messages.RecurrenceInfo))
})
