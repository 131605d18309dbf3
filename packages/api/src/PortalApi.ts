/**
 * `PortalApi`: the daemon's HTTP contract, declared once and shared by the server (HttpApiBuilder), the CLI and
 * clients (HttpApiClient), and the generated OpenAPI document. Every route of the reference (rest-api.md §2.1) and
 * every route we add (§2.2).
 *
 * Errors every route may answer are declared here: 400 (bad input), 404 (unknown route or resource), 405, 500,
 * 501 (not built yet) and 504 (request timeout). Authenticated routes add 401; JSON-body routes 413 and 415.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import * as ApiError from "./ApiError.js"
import { CalendarApi } from "./CalendarApi.js"
import { CashuApi } from "./CashuApi.js"
import { DocsApi } from "./DocsApi.js"
import { EventsApi } from "./EventsApi.js"
import { IdentityApi } from "./IdentityApi.js"
import { InvoicesApi } from "./InvoicesApi.js"
import { JwtApi } from "./JwtApi.js"
import { KeysApi } from "./KeysApi.js"
import { PaymentsApi } from "./PaymentsApi.js"
import { RelaysApi } from "./RelaysApi.js"
import { SessionApi } from "./SessionApi.js"
import { SystemApi } from "./SystemApi.js"
import { WalletApi } from "./WalletApi.js"

const decodeErrorRef = "#/components/schemas/HttpApiDecodeError"

/**
 * Schema failures never reach clients as the framework's `HttpApiDecodeError`: the server answers them as
 * `BadRequest` (differences.md §i). This removes the framework's error from the generated document.
 */
const withoutFrameworkDecodeError = (spec: Record<string, unknown>): Record<string, unknown> => {
  const paths = (spec["paths"] ?? {}) as Record<string, Record<string, { responses?: Record<string, any> }>>
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const bad = operation.responses?.["400"]
      const schema = bad?.content?.["application/json"]?.schema
      if (schema?.anyOf !== undefined) {
        const rest = (schema.anyOf as Array<{ $ref?: string }>).filter((s) => s.$ref !== decodeErrorRef)
        bad.content["application/json"].schema = rest.length === 1 ? rest[0] : { anyOf: rest }
        bad.description = "A bad body, query, path parameter or key; the message names the field."
      }
    }
  }
  const components = spec["components"] as { schemas?: Record<string, unknown> } | undefined
  if (components?.schemas !== undefined) delete components.schemas["HttpApiDecodeError"]
  return spec
}

/** @category api */
export class PortalApi extends HttpApi.make("portal")
  .add(SystemApi)
  .add(IdentityApi)
  .add(KeysApi)
  .add(PaymentsApi)
  .add(InvoicesApi)
  .add(JwtApi)
  .add(CashuApi)
  .add(RelaysApi)
  .add(CalendarApi)
  .add(WalletApi)
  .add(EventsApi)
  .add(SessionApi)
  .add(DocsApi)
  .addError(ApiError.BadRequestResponse)
  .addError(ApiError.NotFoundResponse)
  .addError(ApiError.MethodNotAllowedResponse)
  .addError(ApiError.InternalErrorResponse)
  .addError(ApiError.NotImplementedResponse)
  .addError(ApiError.GatewayTimeoutResponse)
  .annotate(OpenApi.Title, "Portal REST API")
  .annotate(OpenApi.Transform, withoutFrameworkDecodeError)
  .annotate(
    OpenApi.Description,
    "The Portal daemon: Nostr login and Lightning payments over a REST API compatible with portal-rest 0.4. " +
      'JSON responses use the envelope {"success":true,"data":…} / {"success":false,"error":"…"}.'
  ) {}
