/**
 * Handlers of the `identity` group: `GET /info`; profile and NIP-05 lookups answer 501 until the Nostr services
 * are wired (their path parameters are validated first).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import { BuildInfoTag } from "../BuildInfo.js"
import { notImplemented } from "./NotImplemented.js"
import { ServerIdentity } from "./ServerIdentity.js"

/** @category layers */
export const IdentityHandlers = HttpApiBuilder.group(PortalApi, "identity", (handlers) =>
  Effect.gen(function* () {
    const info = yield* BuildInfoTag
    const identity = yield* ServerIdentity
    return handlers
      .handle("info", () =>
        Effect.succeed({
          success: true as const,
          data: { public_key: identity.publicKey, version: info.version, git_commit: info.gitCommit }
        })
      )
      .handle("profile", notImplemented("identity", "profile"))
      .handle("nip05", notImplemented("identity", "nip05"))
  })
)
