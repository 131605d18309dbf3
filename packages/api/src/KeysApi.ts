/**
 * The `keys` group: key handshake URLs (one-shot or reusable static-token, differences.md §c) and key
 * authentication (main key and subkeys). Both start a stream and answer 201. Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { Authorization, JsonBody, OptionalJsonBody } from "./Middleware.js"

/**
 * The data of every async start: the stream to poll.
 * @category models
 */
export const StreamStarted = Schema.Struct({ stream_id: Schema.String }).annotations({ identifier: "StreamStarted" })

/**
 * An authenticated async route: a JSON body, `201` with the stream to poll, `502` when the relays or an upstream
 * fail.
 * @category endpoints
 */
export const startsStream = <const Name extends string, const Path extends `/${string}`, P extends Schema.Schema.Any>(
  name: Name,
  path: Path,
  payload: P,
  description: string
) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(payload)
    .addSuccess(Envelope.Success(StreamStarted), { status: 201 })
    .addError(ApiError.BadGatewayResponse)
    .middleware(JsonBody)
    .middleware(Authorization)
    .annotate(OpenApi.Description, description)

const KeyHandshakeFields = Schema.Struct({
  static_token: Inputs.optional(Inputs.StaticToken),
  no_request: Schema.optionalWith(Schema.Boolean, { nullable: true, default: () => false })
}).annotations({ identifier: "KeyHandshakeRequest" })

const EmptyBody = Schema.transform(Schema.Null, Schema.typeSchema(KeyHandshakeFields), {
  strict: true,
  decode: () => ({ static_token: Option.none(), no_request: false }),
  encode: () => null
})

/**
 * `POST /key-handshake`: `{static_token?, no_request?}`; an empty body counts as `{}` (differences.md §p).
 * @category models
 */
export const KeyHandshakeRequest = Schema.Union(KeyHandshakeFields, EmptyBody)

/** @category models */
export const KeyHandshakeStarted = Schema.Struct({ url: Schema.String, stream_id: Schema.String }).annotations({
  identifier: "KeyHandshakeStarted"
})

/** @category models */
export const KeyHandshakeClosed = Schema.Struct({ stream_id: Schema.String, closed: Schema.Literal(true) }).annotations(
  { identifier: "KeyHandshakeClosed" }
)

/** @category models */
export const AuthenticateKeyRequest = Schema.Struct({
  main_key: Inputs.MainKey,
  subkeys: Inputs.Subkeys
}).annotations({ identifier: "AuthenticateKeyRequest" })

/** @category groups */
export class KeysApi extends HttpApiGroup.make("keys")
  .add(
    HttpApiEndpoint.post("keyHandshake", "/key-handshake")
      .setPayload(KeyHandshakeRequest)
      .addSuccess(Envelope.Success(KeyHandshakeStarted), { status: 201 })
      .addError(ApiError.ConflictResponse)
      .addError(ApiError.BadGatewayResponse)
      .middleware(OptionalJsonBody)
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Creates a `portal://` handshake URL and a `key_handshake` stream. A `static_token` URL is reusable: its stream " +
          "collects every wallet that uses it until `DELETE /key-handshake/{stream_id}`; a repeat POST while it is open " +
          "returns the same URL and stream. Without one, the URL is one-shot and ends with `error` `timeout` after 300 s."
      )
  )
  .add(
    HttpApiEndpoint.del("closeKeyHandshake", "/key-handshake/:stream_id")
      .setPath(Schema.Struct({ stream_id: Schema.String }))
      .addSuccess(Envelope.Success(KeyHandshakeClosed))
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Stops listening for a handshake URL and appends `error` `closed` to its stream (idempotent)."
      )
  )
  .add(
    startsStream(
      "authenticateKey",
      "/authenticate-key",
      AuthenticateKeyRequest,
      "Sends an auth challenge to a user (main key and subkeys); the `authenticate_key` stream gets the answer, or " +
        "`error` (`timeout` after 300 s)."
    )
  ) {}
