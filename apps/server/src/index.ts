/**
 * @portal/server — the Portal REST daemon. `main.ts` is the entry point; the layers are exported for tests and for
 * embedding the daemon in another Effect program.
 *
 * @since 0.1.0
 */
export * as BuildInfo from "./BuildInfo.js"
export * as Config from "./Config.js"
export * as Daemon from "./Daemon.js"
export * as Http from "./Http.js"
export * as Secrets from "./Secrets.js"
export * as Startup from "./Startup.js"
