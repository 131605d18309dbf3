import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { assert, describe, it } from "@effect/vitest"
import * as ApiError from "@portal/api/ApiError"
import * as Events from "@portal/api/Events"
import * as Schema from "effect/Schema"

describe("wire errors", () => {
  const responses = [
    [ApiError.BadRequestResponse, ApiError.BadRequest, 400],
    [ApiError.UnauthorizedResponse, ApiError.Unauthorized, 401],
    [ApiError.ForbiddenResponse, ApiError.Forbidden, 403],
    [ApiError.NotFoundResponse, ApiError.NotFound, 404],
    [ApiError.MethodNotAllowedResponse, ApiError.MethodNotAllowed, 405],
    [ApiError.ConflictResponse, ApiError.Conflict, 409],
    [ApiError.PayloadTooLargeResponse, ApiError.PayloadTooLarge, 413],
    [ApiError.UnsupportedMediaTypeResponse, ApiError.UnsupportedMediaType, 415],
    [ApiError.InternalErrorResponse, ApiError.InternalError, 500],
    [ApiError.NotImplementedResponse, ApiError.NotImplemented, 501],
    [ApiError.BadGatewayResponse, ApiError.BadGateway, 502],
    [ApiError.GatewayTimeoutResponse, ApiError.GatewayTimeout, 504]
  ] as ReadonlyArray<
    readonly [Schema.Schema<unknown, unknown>, new (props: { readonly error: string }) => ApiError.ApiError, number]
  >

  it("each encodes to exactly {success:false,error} and carries its status", () => {
    for (const [schema, Class, status] of responses) {
      const error = new Class({ error: "boom" })
      assert.deepStrictEqual(Schema.encodeSync(schema)(error), {
        success: false,
        error: "boom"
      })
      const decoded = Schema.decodeUnknownSync(schema)({
        success: false,
        error: "x"
      })
      assert.instanceOf(decoded, Class)
      assert.strictEqual(HttpApiSchema.getStatusError(schema), status)
      assert.strictEqual(ApiError.statusOf[error._tag], status)
      assert.isTrue(ApiError.isApiError(error))
      assert.deepStrictEqual(ApiError.body(error), { success: false, error: "boom" })
    }
  })
})

describe("stream events", () => {
  it("decode the flattened examples of rest-api.md §4.2–§4.3 and keep them byte for byte", () => {
    const examples: ReadonlyArray<unknown> = [
      {
        index: 0,
        timestamp: "2026-05-06T16:42:24.123456789+00:00",
        type: "payment_status_update",
        status: { status: "user_approved" }
      },
      {
        index: 1,
        timestamp: "2026-05-06T16:42:25.5+00:00".replace(".5", ".500"),
        type: "payment_status_update",
        status: { status: "paid", preimage: "ab12" }
      },
      {
        index: 0,
        timestamp: "2026-05-06T16:42:24.123+00:00",
        type: "key_handshake",
        main_key: "60306a10cf304a12826e8afe728bd3c3045cc4d3566c3004429000e571adac91",
        preferred_relays: ["wss://relay.nostr.net"]
      },
      {
        index: 2,
        timestamp: "2026-05-06T16:42:24+00:00",
        type: "recurring_payment_response",
        status: {
          request_id: "r1",
          status: {
            status: "confirmed",
            subscription_id: "s1",
            authorized_amount: 10000,
            authorized_currency: "Millisats",
            authorized_recurrence: {
              until: null,
              calendar: "*-*-01 00:00:00",
              max_payments: 12,
              first_payment_due: "1767225600"
            }
          }
        }
      },
      { index: 3, timestamp: "2026-05-06T16:42:24.123+00:00", type: "error", reason: "timeout" },
      {
        index: 4,
        timestamp: "2026-05-06T16:42:24.123+00:00",
        type: "cashu_response",
        status: { status: "insufficient_funds" }
      },
      {
        index: 5,
        timestamp: "2026-05-06T16:42:24.123+00:00",
        type: "invoice_response",
        invoice: "lnbc1",
        payment_hash: ""
      }
    ]
    for (const example of examples) {
      const event = Schema.decodeUnknownSync(Events.StreamEvent)(example)
      assert.deepStrictEqual(Schema.encodeSync(Events.StreamEvent)(event), example)
    }
  })

  it("refuse a wrapped or unknown event, and a timestamp without the +00:00 offset", () => {
    for (const bad of [
      { type: "StatusUpdate", timestamp: 1700000000, data: {} },
      { index: 0, timestamp: "2026-05-06T16:42:24.123Z", type: "error", reason: "x" },
      { index: 0, timestamp: "2026-05-06T16:42:24.123+00:00", type: "error" }
    ]) {
      assert.isTrue(Schema.is(Events.StreamEvent)(bad) === false)
    }
    assert.lengthOf(Events.eventTypes, 8)
  })
})
