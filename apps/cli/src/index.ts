/**
 * @portal/cli — the `portal` command. `bin.ts` is the entry point; the command tree (`Cli`), the daemon client
 * (`PortalClient`), stream following (`Follow`), output conventions (`Output`) and the loopback sandbox (`Sandbox`,
 * `Demo`) are exported for tests and for embedding.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
export * as Follow from "./Follow.js"
export * as Output from "./Output.js"
export * as PortalClient from "./PortalClient.js"
export * as Sandbox from "./Sandbox.js"
