/**
 * Handlers of the `identity` group: `GET /info`, `GET /profile/{main_key}` (kind 0 from the relays, newest wins,
 * 5 s; `nip05` null unless it verifies) and `GET /nip05/{nip05}` (400 for a malformed identifier, 502 when the host
 * fails or does not list the name).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import { BadGateway, BadRequest } from "@portal/api/ApiError"
import * as Nip05 from "@portal/nostr/Nip05"
import * as Profiles from "@portal/nostr/Profiles"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BuildInfoTag } from "../BuildInfo.js"
import { ServerIdentity } from "./ServerIdentity.js"

/** @category layers */
export const IdentityHandlers = HttpApiBuilder.group(PortalApi, "identity", (handlers) =>
  Effect.gen(function* () {
    const info = yield* BuildInfoTag
    const identity = yield* ServerIdentity
    const profiles = yield* Profiles.Profiles
    const nip05 = yield* Nip05.Nip05
    return handlers
      .handle("info", () =>
        Effect.succeed({
          success: true as const,
          data: { public_key: identity.publicKey, version: info.version, git_commit: info.gitCommit }
        })
      )
      .handle("profile", ({ path }) =>
        Effect.map(profiles.fetch(path.main_key, { timeout: "5 seconds" }), (found) => ({
          success: true as const,
          data: {
            profile: Option.match(found, {
              onNone: () => null,
              onSome: ({ profile }) => ({
                name: profile.name ?? null,
                display_name: profile.displayName ?? null,
                picture: profile.picture ?? null,
                nip05: profile.nip05 ?? null
              })
            })
          }
        }))
      )
      .handle("nip05", ({ path }) =>
        nip05.resolve(path.nip05).pipe(
          Effect.map((resolved) => ({
            success: true as const,
            data: { profile: { public_key: resolved.pubkey, relays: resolved.relays, nip46: resolved.nip46 } }
          })),
          Effect.mapError((error) =>
            error.reason === "Malformed"
              ? new BadRequest({ error: `Invalid nip05: ${error.detail}` })
              : new BadGateway({ error: `Failed to fetch nip05 profile: ${error.reason}: ${error.detail}` })
          )
        )
      )
  })
)
