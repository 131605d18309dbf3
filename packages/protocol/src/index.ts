/**
 * @portal/protocol — the Portal wire model over Nostr, pure and free of I/O: branded primitives, event kinds,
 * message schemas (wire ↔ domain), the key-handshake URL, the recurrence calendar, subkey proofs, amounts and
 * currencies, and the package's typed errors.
 *
 * @since 0.1.0
 */
export * as Primitives from "./Primitives.js"
export * as ProtocolError from "./ProtocolError.js"
export * as PublicKey from "./PublicKey.js"
export * as Kinds from "./Kinds.js"
export * as Currency from "./Currency.js"
export * as Subkey from "./Subkey.js"
export * as Calendar from "./Calendar.js"
export * as HandshakeUrl from "./HandshakeUrl.js"
export * as Messages from "./Messages.js"
