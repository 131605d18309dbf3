/**
 * The contract's middleware tags; the server implements them.
 *
 * - `Authorization`: `Authorization: Bearer <token>` on every route except the public ones (rest-api.md §1.2),
 *   declared as the OpenAPI security scheme `bearerAuth`.
 * - `JsonBody` / `OptionalJsonBody`: the body checks of a JSON route, run after authentication and before the body
 *   is decoded, in the order of differences.md §i: content type (415), size (413), JSON syntax and a JSON object
 *   (400). `OptionalJsonBody` also lets an empty body through (it then decodes as `{}`; differences.md §p).
 *
 * An endpoint's middleware added last runs first, so endpoints add the body middleware, then `Authorization`:
 * `.middleware(JsonBody).middleware(Authorization)`.
 *
 * @since 0.1.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"

/** @category middleware */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@portal/api/Authorization", {
  failure: ApiError.UnauthorizedResponse,
  security: { bearerAuth: HttpApiSecurity.bearer }
}) {}

const bodyFailure = Schema.Union(
  ApiError.UnsupportedMediaTypeResponse,
  ApiError.PayloadTooLargeResponse,
  ApiError.BadRequestResponse
)

/** @category middleware */
export class JsonBody extends HttpApiMiddleware.Tag<JsonBody>()("@portal/api/JsonBody", {
  failure: bodyFailure
}) {}

/** @category middleware */
export class OptionalJsonBody extends HttpApiMiddleware.Tag<OptionalJsonBody>()("@portal/api/OptionalJsonBody", {
  failure: bodyFailure
}) {}
