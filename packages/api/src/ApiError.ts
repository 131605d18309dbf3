/**
 * The daemon's wire errors (differences.md §i). Every non-2xx response has the body
 * `{"success":false,"error":"<message>"}` and nothing else; which error it is follows from the status.
 *
 * Each error is a tagged class that handlers fail with (`new NotFound({ error: "Stream 'x' not found" })`) and a
 * `…Response` schema that the contract declares: a transformation from the envelope body to the class, carrying
 * the status with `HttpApiSchema.annotations`. Clients (HttpApiClient) decode error bodies back into the classes.
 *
 * @since 0.1.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import * as Envelope from "./Envelope.js"

const fields = { error: Schema.String }

/** 400: a bad request body, query, path parameter or key; the message names the field. @category errors */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", fields) {
  override get message() {
    return this.error
  }
}

/** 401: missing, malformed or invalid bearer token. @category errors */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", fields) {
  override get message() {
    return this.error
  }
}

/** 403: authenticated but not allowed (NIP-98 login). @category errors */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", fields) {
  override get message() {
    return this.error
  }
}

/** 404: unknown route, stream, relay or key-handshake stream. @category errors */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", fields) {
  override get message() {
    return this.error
  }
}

/** 405: a known path with a method it does not serve; the response carries `Allow`. @category errors */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", fields) {
  override get message() {
    return this.error
  }
}

/** 409: a static-token handshake already open with other options (differences.md §c). @category errors */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", fields) {
  override get message() {
    return this.error
  }
}

/** 413: the request body is larger than `server.max_body_bytes`. @category errors */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", fields) {
  override get message() {
    return this.error
  }
}

/** 415: a body sent without `Content-Type: application/json`. @category errors */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", fields) {
  override get message() {
    return this.error
  }
}

/** 500: a genuine internal fault; the message carries a reference to the server log entry. @category errors */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", fields) {
  override get message() {
    return this.error
  }
}

/** 501: a route declared in the contract whose service is not built yet. @category errors */
export class NotImplemented extends Schema.TaggedError<NotImplemented>()("NotImplemented", fields) {
  override get message() {
    return this.error
  }
}

/** 502: an upstream failure (relays, Lightning wallet, mint, rate source, NIP-05 host). @category errors */
export class BadGateway extends Schema.TaggedError<BadGateway>()("BadGateway", fields) {
  override get message() {
    return this.error
  }
}

/** 504: an upstream or the request itself timed out. @category errors */
export class GatewayTimeout extends Schema.TaggedError<GatewayTimeout>()("GatewayTimeout", fields) {
  override get message() {
    return this.error
  }
}

/** Any wire error. @category errors */
export type ApiError =
  | BadRequest
  | Unauthorized
  | Forbidden
  | NotFound
  | MethodNotAllowed
  | Conflict
  | PayloadTooLarge
  | UnsupportedMediaType
  | InternalError
  | NotImplemented
  | BadGateway
  | GatewayTimeout

/**
 * The HTTP status of each wire error, by tag.
 * @category status
 */
export const statusOf: Record<ApiError["_tag"], number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  InternalError: 500,
  NotImplemented: 501,
  BadGateway: 502,
  GatewayTimeout: 504
}

const errorTags = new Set<string>(Object.keys(statusOf))

/**
 * True for the wire errors of this module.
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError =>
  typeof u === "object" && u !== null && "_tag" in u && errorTags.has(String(u._tag)) && "error" in u

/**
 * The JSON body of a wire error.
 * @category encoding
 */
export const body = (error: ApiError): Envelope.Failure => ({ success: false, error: error.error })

const response = <Self extends ApiError>(
  Class: new (props: { readonly error: string }) => Self,
  tag: Self["_tag"],
  description: string
): Schema.Schema<Self, Envelope.Failure> =>
  Schema.transform(
    Envelope.Failure,
    Schema.declare((u: unknown): u is Self => u instanceof Class, { identifier: tag }),
    {
      strict: true,
      decode: (failure) => new Class({ error: failure.error }),
      encode: (error) => ({ success: false as const, error: error.error })
    }
  ).annotations(HttpApiSchema.annotations({ status: statusOf[tag], identifier: `${tag}Response`, description }))

/** @category schemas */
export const BadRequestResponse = response(BadRequest, "BadRequest", "A bad body, query, path parameter or key.")
/** @category schemas */
export const UnauthorizedResponse = response(Unauthorized, "Unauthorized", "Missing or invalid bearer token.")
/** @category schemas */
export const ForbiddenResponse = response(Forbidden, "Forbidden", "Not allowed.")
/** @category schemas */
export const NotFoundResponse = response(NotFound, "NotFound", "Unknown route or resource.")
/** @category schemas */
export const MethodNotAllowedResponse = response(
  MethodNotAllowed,
  "MethodNotAllowed",
  "Known path, wrong method (see the Allow header)."
)
/** @category schemas */
export const ConflictResponse = response(Conflict, "Conflict", "Conflicts with an open operation.")
/** @category schemas */
export const PayloadTooLargeResponse = response(PayloadTooLarge, "PayloadTooLarge", "The body exceeds the limit.")
/** @category schemas */
export const UnsupportedMediaTypeResponse = response(
  UnsupportedMediaType,
  "UnsupportedMediaType",
  "A body sent without Content-Type: application/json."
)
/** @category schemas */
export const InternalErrorResponse = response(InternalError, "InternalError", "An internal fault (see the log).")
/** @category schemas */
export const NotImplementedResponse = response(NotImplemented, "NotImplemented", "Declared but not built yet.")
/** @category schemas */
export const BadGatewayResponse = response(BadGateway, "BadGateway", "An upstream service failed.")
/** @category schemas */
export const GatewayTimeoutResponse = response(GatewayTimeout, "GatewayTimeout", "Timed out.")
