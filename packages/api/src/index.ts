/**
 * @portal/api — the Portal REST contract as an `@effect/platform` HttpApi: groups, endpoints, request and response
 * schemas, stream events, the JSON envelope, wire errors and middleware tags. No handlers live here.
 *
 * @since 0.1.0
 */
export * as ApiError from "./ApiError.js"
export * as CalendarApi from "./CalendarApi.js"
export * as CashuApi from "./CashuApi.js"
export * as DocsApi from "./DocsApi.js"
export * as Envelope from "./Envelope.js"
export * as Events from "./Events.js"
export * as EventsApi from "./EventsApi.js"
export * as IdentityApi from "./IdentityApi.js"
export * as Inputs from "./Inputs.js"
export * as InvoicesApi from "./InvoicesApi.js"
export * as JwtApi from "./JwtApi.js"
export * as KeysApi from "./KeysApi.js"
export * as Middleware from "./Middleware.js"
export * as PaymentsApi from "./PaymentsApi.js"
export * as PortalApi from "./PortalApi.js"
export * as RelaysApi from "./RelaysApi.js"
export * as SessionApi from "./SessionApi.js"
export * as SystemApi from "./SystemApi.js"
export * as WalletApi from "./WalletApi.js"
