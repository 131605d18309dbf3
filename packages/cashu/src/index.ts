/**
 * @portal/cashu: Cashu ecash over cashu-ts — mint (static auth or a paid NUT-04 quote), burn, receive, send,
 * tokens and proof states — and the ecash balance it keeps.
 */
export * as Cashu from "./Cashu.js"
export * as CashuError from "./CashuError.js"
export * as ProofStore from "./ProofStore.js"
export * as Token from "./Token.js"
