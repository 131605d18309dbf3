/**
 * The HTTP edge's settings (differences.md §j): request body limit, per-request timeout and CORS origins.
 * `main.ts` provides them from `Config.settings.server`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/** @category models */
export interface Service {
  /** `server.max_body_bytes`: larger bodies get 413. */
  readonly maxBodyBytes: number
  /** `server.request_timeout_ms`: slower requests get 504 (SSE is exempt). */
  readonly requestTimeoutMs: number
  /** `server.cors_origins`: empty means no CORS headers at all; `["*"]` allows any origin. */
  readonly corsOrigins: ReadonlyArray<string>
}

/** @category tags */
export class HttpSettings extends Context.Tag("@portal/server/HttpSettings")<HttpSettings, Service>() {}

/**
 * The defaults of differences.md §New configuration keys.
 * @category constants
 */
export const defaults: Service = { maxBodyBytes: 1_048_576, requestTimeoutMs: 60_000, corsOrigins: [] }

/**
 * Provides the settings (any object with these fields, such as `Config.Settings["server"]`).
 * @category layers
 */
export const layer = (settings: Service): Layer.Layer<HttpSettings> =>
  Layer.succeed(HttpSettings, {
    maxBodyBytes: settings.maxBodyBytes,
    requestTimeoutMs: settings.requestTimeoutMs,
    corsOrigins: settings.corsOrigins
  })
