/**
 * @portal/testing: real loopback parts for tests, benchmarks and the sandbox (private, dev-only).
 */
export * as CashuMint from "./CashuMint.js"
export * as NwcWalletService from "./NwcWalletService.js"
export * as PgCluster from "./PgCluster.js"
export * as TestRelay from "./TestRelay.js"
