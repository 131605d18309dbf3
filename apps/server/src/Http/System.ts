/**
 * Handlers of the `system` group: `GET /health` and `GET /version`.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import { BuildInfoTag } from "../BuildInfo.js"

/** @category layers */
export const SystemLive = HttpApiBuilder.group(PortalApi, "system", (handlers) =>
  Effect.gen(function* () {
    const info = yield* BuildInfoTag
    return handlers
      .handle("health", () => Effect.succeed("OK"))
      .handle("version", () =>
        Effect.succeed({ success: true as const, data: { version: info.version, git_commit: info.gitCommit } })
      )
  })
)
