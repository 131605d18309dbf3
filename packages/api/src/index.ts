/**
 * @portal/api — the Portal REST contract as an `@effect/platform` HttpApi: groups, endpoints, the JSON envelope
 * and wire errors. No handlers live here.
 *
 * @since 0.1.0
 */
export * as Envelope from "./Envelope.js"
export * as PortalApi from "./PortalApi.js"
export * as SystemApi from "./SystemApi.js"
