/** @portal/nostr */
export {}
