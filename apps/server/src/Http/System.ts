/**
 * Handlers of the `system` group: `GET /health`, `GET /version` and the two NIP-05 documents
 * (rest-api.md §3, differences.md §m).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { PortalApi } from "@portal/api/PortalApi"
import type { NostrJson } from "@portal/api/SystemApi"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { BuildInfoTag } from "../BuildInfo.js"
import { ServerIdentity } from "./ServerIdentity.js"

const document = (
  name: string,
  key: string,
  relays: ReadonlyArray<string>
): NostrJson & { readonly names: Record<string, string> } =>
  relays.length === 0 ? { names: { [name]: key } } : { names: { [name]: key }, relays: { [key]: relays } }

/** @category layers */
export const SystemHandlers = HttpApiBuilder.group(PortalApi, "system", (handlers) =>
  Effect.gen(function* () {
    const info = yield* BuildInfoTag
    const identity = yield* ServerIdentity
    return handlers
      .handle("health", () => Effect.succeed("OK"))
      .handle("version", () =>
        Effect.succeed({ success: true as const, data: { version: info.version, git_commit: info.gitCommit } })
      )
      .handle("wellKnown", () =>
        Effect.map(identity.relays, (relays) => ({
          success: true as const,
          data: document(
            Option.getOrElse(identity.profileName, () => "_"),
            identity.publicKey,
            relays
          )
        }))
      )
      .handleRaw("nostrJson", ({ urlParams }) =>
        Effect.map(identity.relays, (relays) => {
          const name = Option.getOrElse(identity.profileName, () => "_").toLowerCase()
          const full = document(name, identity.mainKey, relays)
          const body = urlParams.name === undefined || urlParams.name.toLowerCase() === name ? full : { names: {} }
          return HttpServerResponse.unsafeJson(body, { headers: { "access-control-allow-origin": "*" } })
        })
      )
  })
)
