/**
 * Routes declared in the contract whose services are not built yet (issue 6 and later issues): each answers
 * 501 `{"success":false,"error":"<METHOD> <path> is not implemented yet"}` after its input has been validated, so
 * clients already get the real 400s. Used by the `Http/<Group>.ts` files whose service is not built yet.
 *
 * @since 0.1.0
 */
import { NotImplemented } from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"

/**
 * A handler that fails with 501 naming the endpoint's method and path template (`GET /profile/{main_key}`).
 * @category handlers
 */
export const notImplemented = (group: string, endpoint: string) => {
  const declared = PortalApi.groups[group]?.endpoints[endpoint]
  const route =
    declared === undefined ? `${group}.${endpoint}` : `${declared.method} ${declared.path.replace(/:(\w+)/g, "{$1}")}`
  const error = new NotImplemented({ error: `${route} is not implemented yet` })
  return (): Effect.Effect<never, NotImplemented> => Effect.fail(error)
}
