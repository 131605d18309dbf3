/**
 * @portal/wallet: the Lightning wallet service (NWC, none, and a simulated network for tests and the sandbox),
 * BOLT11 decoding and preimage checks, and the package's typed errors.
 */
export * as Bolt11 from "./Bolt11.js"
export * as SimulatedLightning from "./SimulatedLightning.js"
export * as Wallet from "./Wallet.js"
export * as WalletError from "./WalletError.js"
