/**
 * @portal/store: durable state on `@effect/sql`, SQLite (embedded default) and PostgreSQL (several instances on
 * one database), behind one `Store` service.
 *
 * @since 0.1.0
 */
export * as Model from "./Model.js"
export * as Store from "./Store.js"
export * as StoreError from "./StoreError.js"
