/**
 * The only file importing `nostr-tools` and `nostr-wasm`: the wasm event verifier (nostr-wasm loaded through
 * nostr-tools' `wasm` entry point) and, once it is loaded, wasm signing; NIP-19 bech32 and NIP-04. Synchronous calls
 * throw; callers wrap them.
 *
 * @internal
 */
import * as nip04 from "nostr-tools/nip04"
import * as nip19 from "nostr-tools/nip19"
import { setNostrWasm, verifyEvent as wasmVerifyEvent } from "nostr-tools/wasm"
import { initNostrWasm, type Nostr } from "nostr-wasm"

/** The shape both verifiers read. */
export interface WireEvent {
  readonly id: string
  readonly pubkey: string
  readonly created_at: number
  readonly kind: number
  readonly tags: ReadonlyArray<ReadonlyArray<string>>
  readonly content: string
  readonly sig: string
}

/** Compiles the secp256k1 wasm module and hands it to nostr-tools. Safe to call more than once. */
export const loadWasm = async (): Promise<void> => {
  const nostr = await initNostrWasm()
  setNostrWasm(nostr)
  loaded = nostr
}

/** The compiled module, once `loadWasm` ran in this process. */
let loaded: Nostr | undefined

/**
 * Id and BIP-340 signature of an unsigned event by libsecp256k1 (wasm), with fresh auxiliary randomness from
 * `crypto.getRandomValues`; `undefined` while the module is not loaded (the caller signs in pure JS). nostr-wasm
 * 0.1.0 ignores entropy passed to `finalizeEvent` (it copies random bytes in only when none is given, leaving stale
 * bytes otherwise), so none is passed.
 */
export const signWithWasm = (
  event: Omit<WireEvent, "id" | "sig">,
  secret: Uint8Array
): { readonly id: string; readonly sig: string } | undefined => {
  if (loaded === undefined || typeof globalThis.crypto?.getRandomValues !== "function") return undefined
  const draft = {
    id: "",
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags.map((tag) => [...tag]),
    content: event.content,
    sig: ""
  }
  loaded.finalizeEvent(draft, secret)
  return { id: draft.id, sig: draft.sig }
}

/**
 * Verifies id and signature with the wasm module. Works on a copy: nostr-tools marks the object it verified, and
 * our decoded events stay untouched.
 */
export const verifyWithWasm = (event: WireEvent): boolean =>
  wasmVerifyEvent({
    id: event.id,
    pubkey: event.pubkey,
    created_at: event.created_at,
    kind: event.kind,
    tags: event.tags.map((tag) => [...tag]),
    content: event.content,
    sig: event.sig
  })

export type Decoded =
  | { readonly type: "npub"; readonly data: string }
  | { readonly type: "nsec"; readonly data: Uint8Array }
  | { readonly type: "note"; readonly data: string }
  | { readonly type: "nprofile"; readonly data: { readonly pubkey: string; readonly relays: ReadonlyArray<string> } }
  | {
      readonly type: "nevent"
      readonly data: {
        readonly id: string
        readonly relays: ReadonlyArray<string>
        readonly author: string | undefined
        readonly kind: number | undefined
      }
    }
  | {
      readonly type: "naddr"
      readonly data: {
        readonly identifier: string
        readonly pubkey: string
        readonly kind: number
        readonly relays: ReadonlyArray<string>
      }
    }

/** Decodes any NIP-19 entity (throws on a bad checksum or an unknown prefix). */
export const decodeBech32 = (input: string): Decoded => {
  const decoded = nip19.decode(input)
  switch (decoded.type) {
    case "npub":
    case "note":
      return { type: decoded.type, data: decoded.data }
    case "nsec":
      return { type: "nsec", data: decoded.data }
    case "nprofile":
      return { type: "nprofile", data: { pubkey: decoded.data.pubkey, relays: decoded.data.relays ?? [] } }
    case "nevent":
      return {
        type: "nevent",
        data: {
          id: decoded.data.id,
          relays: decoded.data.relays ?? [],
          author: decoded.data.author,
          kind: decoded.data.kind
        }
      }
    case "naddr":
      return {
        type: "naddr",
        data: {
          identifier: decoded.data.identifier,
          pubkey: decoded.data.pubkey,
          kind: decoded.data.kind,
          relays: decoded.data.relays ?? []
        }
      }
  }
}

export const npubEncode = (hex: string): string => nip19.npubEncode(hex)
export const nsecEncode = (secret: Uint8Array): string => nip19.nsecEncode(secret)
export const noteEncode = (hex: string): string => nip19.noteEncode(hex)
export const nprofileEncode = (pubkey: string, relays: ReadonlyArray<string>): string =>
  nip19.nprofileEncode({ pubkey, relays: [...relays] })
export const neventEncode = (id: string, relays: ReadonlyArray<string>, author?: string, kind?: number): string =>
  nip19.neventEncode({
    id,
    relays: [...relays],
    ...(author === undefined ? {} : { author }),
    ...(kind === undefined ? {} : { kind })
  })

export const nip04Decrypt = (secret: Uint8Array, peerHex: string, payload: string): string =>
  nip04.decrypt(secret, peerHex, payload)
export const nip04Encrypt = (secret: Uint8Array, peerHex: string, plaintext: string): string =>
  nip04.encrypt(secret, peerHex, plaintext)
