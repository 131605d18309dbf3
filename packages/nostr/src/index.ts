/**
 * @portal/nostr: the Nostr layer of Portal as Effect services.
 *
 * Keys and NIP-19 encodings, events and their verification (wasm with a pure-JS fallback), NIP-44/NIP-04
 * encryption, a `Signer` service, a `RelayPool` over WebSockets with reconnection and de-duplicated
 * subscriptions, request/response `Conversation`s, kind-0 `Profiles` and NIP-05. Each module works on its own;
 * `TestSigner` is a deep import for other packages' tests.
 *
 * @since 0.1.0
 */
export * as BoundedSet from "./BoundedSet.js"
export * as Conversation from "./Conversation.js"
export * as Event from "./Event.js"
export * as Filter from "./Filter.js"
export * as Keys from "./Keys.js"
export * as Nip04 from "./Nip04.js"
export * as Nip05 from "./Nip05.js"
export * as Nip19 from "./Nip19.js"
export * as Nip44 from "./Nip44.js"
export * as NostrError from "./NostrError.js"
export * as Profiles from "./Profiles.js"
export * as RelayPool from "./RelayPool.js"
export * as Signer from "./Signer.js"
