/**
 * Handlers of the `keys` group: `POST /key-handshake` (one-shot or static-token URL and its `key_handshake` stream,
 * differences.md §c), `DELETE /key-handshake/{stream_id}` and `POST /authenticate-key` (a 27000 challenge and its
 * `authenticate_key` stream). Both starts store their stream before answering 201.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as ApiError from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Effect from "effect/Effect"
import * as Handshakes from "../Handshakes.js"
import * as KeyAuth from "../KeyAuth.js"

/** @category layers */
export const KeysHandlers = HttpApiBuilder.group(PortalApi, "keys", (handlers) =>
  Effect.gen(function* () {
    const handshakes = yield* Handshakes.Handshakes
    const auth = yield* KeyAuth.KeyAuth
    return handlers
      .handle("keyHandshake", ({ payload }) =>
        handshakes.create({ staticToken: payload.static_token, noRequest: payload.no_request }).pipe(
          Effect.map(({ streamId, url }) => ({ success: true as const, data: { url, stream_id: streamId } })),
          Effect.catchTags({
            StaticTokenInUse: (e) => Effect.fail(new ApiError.Conflict({ error: e.message })),
            StoreFailure: (e) => Effect.die(e)
          })
        )
      )
      .handle("closeKeyHandshake", ({ path }) =>
        handshakes.close(path.stream_id).pipe(
          Effect.as({ success: true as const, data: { stream_id: path.stream_id, closed: true as const } }),
          Effect.catchTags({
            HandshakeNotFound: (e) => Effect.fail(new ApiError.NotFound({ error: e.message })),
            StoreFailure: (e) => Effect.die(e)
          })
        )
      )
      .handle("authenticateKey", ({ payload }) =>
        auth.start({ mainKey: payload.main_key, subkeys: payload.subkeys }).pipe(
          Effect.map((streamId) => ({ success: true as const, data: { stream_id: streamId } })),
          Effect.catchTag("StoreFailure", (e) => Effect.die(e))
        )
      )
  })
)
