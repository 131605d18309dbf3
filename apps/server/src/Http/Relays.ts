/**
 * Handlers of the `relays` group (differences.md §l): `GET /relays` (every relay with source and status),
 * `POST /relays` (persisted, idempotent, answers the normalised URL), `DELETE /relays` (persisted; 404 when the relay
 * is not in the set).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Relays from "../Relays.js"

/** @category layers */
export const RelaysHandlers = HttpApiBuilder.group(PortalApi, "relays", (handlers) =>
  Effect.gen(function* () {
    const relays = yield* Relays.Relays
    return handlers
      .handle("list", () =>
        relays.list.pipe(
          Effect.map((all) => ({
            success: true as const,
            data: {
              relays: all.map((relay) => ({
                url: relay.url,
                source: relay.source,
                status: relay.status,
                connected_since: Option.getOrNull(Option.map(relay.connectedSince, String)),
                last_error: Option.getOrNull(relay.lastError)
              }))
            }
          })),
          Effect.orDie
        )
      )
      .handle("add", ({ payload }) =>
        relays
          .add(payload.relay)
          .pipe(Effect.as({ success: true as const, data: { relay: payload.relay } }), Effect.orDie)
      )
      .handle("remove", ({ payload }) =>
        relays.remove(payload.relay).pipe(
          Effect.orDie,
          Effect.flatMap((removed) =>
            removed
              ? Effect.succeed({ success: true as const, data: { relay: payload.relay } })
              : Effect.fail(new ApiError.NotFound({ error: `Relay ${payload.relay} is not in the relay set` }))
          )
        )
      )
  })
)
