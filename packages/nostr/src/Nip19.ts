/**
 * NIP-19 bech32 entities: `npub`, `nsec`, `note`, `nprofile`, `nevent`, `naddr`. Decoding accepts an optional
 * `nostr:` prefix (NIP-21). A decoded `nsec` stays `Redacted`, and a failing input that looks like an `nsec` is
 * never echoed in the error.
 *
 * @since 0.1.0
 */
import { EventIdHex, PublicKeyHex } from "@portal/protocol/Primitives"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Tools from "./internal/nostrTools.js"
import { InvalidBech32 } from "./NostrError.js"

/**
 * A decoded NIP-19 entity.
 * @category models
 */
export type Decoded = Data.TaggedEnum<{
  Npub: { readonly pubkey: PublicKeyHex }
  Nsec: { readonly secretKey: Redacted.Redacted<Uint8Array> }
  Note: { readonly id: EventIdHex }
  Nprofile: { readonly pubkey: PublicKeyHex; readonly relays: ReadonlyArray<string> }
  Nevent: {
    readonly id: EventIdHex
    readonly relays: ReadonlyArray<string>
    readonly author: PublicKeyHex | undefined
    readonly kind: number | undefined
  }
  Naddr: {
    readonly identifier: string
    readonly pubkey: PublicKeyHex
    readonly kind: number
    readonly relays: ReadonlyArray<string>
  }
}>
/** @category models */
export const Decoded = Data.taggedEnum<Decoded>()

const pk = Schema.decodeUnknownSync(PublicKeyHex)
const eid = Schema.decodeUnknownSync(EventIdHex)

/**
 * Decodes any NIP-19 entity (with or without `nostr:`).
 * @category decoding
 */
export const decode = (input: string): Effect.Effect<Decoded, InvalidBech32> => {
  const text = input.trim().replace(/^nostr:/, "")
  const shown = text.startsWith("nsec1") ? "nsec1… (withheld)" : input
  return Effect.try({
    try: (): Decoded => {
      const decoded = Tools.decodeBech32(text)
      switch (decoded.type) {
        case "npub":
          return Decoded.Npub({ pubkey: pk(decoded.data) })
        case "nsec":
          return Decoded.Nsec({ secretKey: Redacted.make(decoded.data) })
        case "note":
          return Decoded.Note({ id: eid(decoded.data) })
        case "nprofile":
          return Decoded.Nprofile({ pubkey: pk(decoded.data.pubkey), relays: decoded.data.relays })
        case "nevent":
          return Decoded.Nevent({
            id: eid(decoded.data.id),
            relays: decoded.data.relays,
            author: decoded.data.author === undefined ? undefined : pk(decoded.data.author),
            kind: decoded.data.kind
          })
        case "naddr":
          return Decoded.Naddr({
            identifier: decoded.data.identifier,
            pubkey: pk(decoded.data.pubkey),
            kind: decoded.data.kind,
            relays: decoded.data.relays
          })
      }
    },
    catch: (cause) =>
      new InvalidBech32({
        input: shown,
        // library messages quote the input: drop it, and say nothing more for an nsec
        detail:
          text.startsWith("nsec1") || !(cause instanceof Error)
            ? "not a valid NIP-19 entity"
            : cause.message.split(text).join("<input>")
      })
  })
}

/**
 * `npub1…` of a public key.
 * @category encoding
 */
export const npubEncode = (pubkey: PublicKeyHex): string => Tools.npubEncode(pubkey)

/**
 * `nsec1…` of a secret key, still redacted.
 * @category encoding
 */
export const nsecEncode = (secretKey: Redacted.Redacted<Uint8Array>): Redacted.Redacted<string> =>
  Redacted.make(Tools.nsecEncode(Redacted.value(secretKey)))

/**
 * `note1…` of an event id.
 * @category encoding
 */
export const noteEncode = (id: EventIdHex): string => Tools.noteEncode(id)

/**
 * `nprofile1…` of a public key with relay hints.
 * @category encoding
 */
export const nprofileEncode = (pubkey: PublicKeyHex, relays: ReadonlyArray<string> = []): string =>
  Tools.nprofileEncode(pubkey, relays)

/**
 * `nevent1…` of an event id with relay hints, author and kind.
 * @category encoding
 */
export const neventEncode = (
  id: EventIdHex,
  options: { readonly relays?: ReadonlyArray<string>; readonly author?: PublicKeyHex; readonly kind?: number } = {}
): string => Tools.neventEncode(id, options.relays ?? [], options.author, options.kind)
