/**
 * Kind-0 profiles (NIP-01 metadata; protocol.md §5.13, §15).
 *
 * `fetch` asks every relay for `{"authors":[pk],"kinds":[0],"limit":1}` (lifetime 5 s), keeps the **newest** valid
 * event across relays, reads `name`, `display_name`, `picture` and `nip05` (other fields and non-string values
 * are ignored), and verifies `nip05` with `Nip05`: when it does not verify, `nip05` is dropped but the profile is
 * still returned. `publish` signs kind 0 in clear with only the fields that are set, keys sorted, no tags.
 *
 * @since 0.1.0
 */
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Event from "./Event.js"
import { Nip05 } from "./Nip05.js"
import type { SignerError } from "./NostrError.js"
import * as RelayPool from "./RelayPool.js"
import * as Signer from "./Signer.js"

/**
 * The profile fields Portal reads and writes.
 * @category models
 */
export interface Profile {
  readonly name?: string
  readonly displayName?: string
  readonly picture?: string
  readonly nip05?: string
}

/**
 * A fetched profile with the event it came from.
 * @category models
 */
export interface Fetched {
  readonly profile: Profile
  readonly event: Event.NostrEvent
  /** Whether `profile.nip05` was verified (it is dropped when verification fails). */
  readonly nip05Verified: boolean
}

const MetadataObject = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
const decodeMetadata = Schema.decodeUnknownOption(MetadataObject)

const WIRE_FIELDS = [
  ["name", "name"],
  ["display_name", "displayName"],
  ["picture", "picture"],
  ["nip05", "nip05"]
] as const

/**
 * Reads the four Portal fields from kind-0 content; `None` when it is not a JSON object.
 * @category codec
 */
export const parseContent = (content: string): Option.Option<Profile> =>
  Option.map(decodeMetadata(content), (object) => {
    const profile: { -readonly [K in keyof Profile]: Profile[K] } = {}
    for (const [wire, field] of WIRE_FIELDS) {
      const value = object[wire]
      if (typeof value === "string") profile[field] = value
    }
    return profile
  })

/**
 * Kind-0 content for a profile: only the fields that are set, keys sorted, compact.
 * @category codec
 */
export const encodeContent = (profile: Profile): string => {
  const entries: Array<[string, string]> = []
  for (const [wire, field] of WIRE_FIELDS) {
    const value = profile[field]
    if (value !== undefined) entries.push([wire, value])
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(Object.fromEntries(entries))
}

/**
 * Profile fetch and publish.
 * @category models
 */
export interface Service {
  /** The newest profile of `pubkey` across relays, if any. */
  readonly fetch: (
    pubkey: PublicKeyHex,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<Option.Option<Fetched>>
  /** Publishes our profile (kind 0). */
  readonly publish: (profile: Profile) => Effect.Effect<RelayPool.PublishResult, SignerError>
}

/** @category tags */
export class Profiles extends Context.Tag("@portal/nostr/Profiles")<Profiles, Service>() {}

/**
 * Builds the service.
 * @category constructors
 */
export const make: Effect.Effect<Service, never, RelayPool.RelayPool | Signer.Signer | Nip05> = Effect.gen(
  function* () {
    const pool = yield* RelayPool.RelayPool
    const signer = yield* Signer.Signer
    const nip05 = yield* Nip05

    const fetch = (pubkey: PublicKeyHex, options?: { readonly timeout?: Duration.DurationInput }) =>
      Effect.gen(function* () {
        const events = yield* pool.query([{ authors: [pubkey], kinds: [0], limit: 1 }], {
          timeout: options?.timeout ?? "5 seconds"
        })
        let newest: { readonly event: Event.NostrEvent; readonly profile: Profile } | undefined
        for (const event of events) {
          if (event.kind !== 0 || event.pubkey !== pubkey) continue
          const profile = parseContent(event.content)
          if (Option.isNone(profile)) continue
          const newer =
            newest === undefined ||
            event.created_at > newest.event.created_at ||
            (event.created_at === newest.event.created_at && event.id < newest.event.id)
          if (newer) newest = { event, profile: profile.value }
        }
        if (newest === undefined) return Option.none<Fetched>()
        const { event, profile } = newest
        if (profile.nip05 === undefined) return Option.some({ profile, event, nip05Verified: false })
        const verified = yield* nip05.verify(profile.nip05, pubkey).pipe(Effect.isSuccess)
        if (verified) return Option.some({ profile, event, nip05Verified: true })
        const { nip05: _dropped, ...rest } = profile
        return Option.some({ profile: rest, event, nip05Verified: false })
      })

    const publish = (profile: Profile) =>
      Effect.flatMap(Signer.signNow(signer, { kind: 0, content: encodeContent(profile) }), (event) =>
        pool.publish(event)
      )

    return Profiles.of({ fetch, publish })
  }
)

/**
 * The service over the pool, signer and NIP-05 resolver in context.
 * @category layers
 */
export const layer: Layer.Layer<Profiles, never, RelayPool.RelayPool | Signer.Signer | Nip05> = Layer.effect(
  Profiles,
  make
)
