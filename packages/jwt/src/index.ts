/**
 * @portal/jwt: Portal JWTs and NIP-98 login.
 *
 * `Jwt` issues and verifies ES256K tokens signed with a Nostr key (protocol.md §14, with exp/nbf enforced as in
 * differences.md §e); `Nip98` verifies NIP-98 HTTP auth headers; `Session` exchanges a NIP-98 header for a
 * short-lived session token and checks it as a bearer (differences.md §k); `SeenIds` is the replay port (in memory
 * here, backed by the store in the daemon). Each module works on its own.
 *
 * @since 0.1.0
 */
export * as Jwt from "./Jwt.js"
export * as JwtError from "./JwtError.js"
export * as Nip98 from "./Nip98.js"
export * as SeenIds from "./SeenIds.js"
export * as Session from "./Session.js"
