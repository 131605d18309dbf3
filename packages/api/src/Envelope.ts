/**
 * The daemon's JSON envelope (rest-api.md §1.1): `{"success":true,"data":<T>}` on success and
 * `{"success":false,"error":"<message>"}` on every failure.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Wraps a success payload schema in the envelope.
 * @category envelope
 */
export const Success = <S extends Schema.Schema.Any>(data: S) => Schema.Struct({ success: Schema.Literal(true), data })

/**
 * The body of every non-2xx response.
 * @category envelope
 */
export const Failure = Schema.Struct({ success: Schema.Literal(false), error: Schema.String })
/** @category envelope */
export type Failure = typeof Failure.Type
