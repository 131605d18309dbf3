/**
 * Who the daemon is, as the public routes tell it: `/info` and `/well-known/nostr.json` show the signing key,
 * `/.well-known/nostr.json` the main key (the subkey proof's main key in subkey mode, else the signing key), keyed by
 * the profile name; both list the relays. `main.ts` provides it from the Nostr key, the profile and the relay set.
 *
 * @since 0.1.0
 */
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** @category models */
export interface Service {
  /** The key the daemon signs with (the subkey in subkey mode), lowercase hex. */
  readonly publicKey: PublicKeyHex
  /** The main key: the subkey proof's `main_key` in subkey mode, else `publicKey`. */
  readonly mainKey: PublicKeyHex
  /** `profile.name`, when configured. */
  readonly profileName: Option.Option<string>
  /** The relays to advertise (the effective relay set). */
  readonly relays: Effect.Effect<ReadonlyArray<string>>
}

/** @category tags */
export class ServerIdentity extends Context.Tag("@portal/server/ServerIdentity")<ServerIdentity, Service>() {}

/**
 * A fixed identity.
 * @category layers
 */
export const layer = (options: {
  readonly publicKey: PublicKeyHex
  readonly mainKey?: PublicKeyHex | undefined
  readonly profileName?: Option.Option<string> | undefined
  readonly relays: ReadonlyArray<string> | Effect.Effect<ReadonlyArray<string>>
}): Layer.Layer<ServerIdentity> =>
  Layer.succeed(ServerIdentity, {
    publicKey: options.publicKey,
    mainKey: options.mainKey ?? options.publicKey,
    profileName: options.profileName ?? Option.none(),
    relays: Effect.isEffect(options.relays) ? options.relays : Effect.succeed(options.relays)
  })
