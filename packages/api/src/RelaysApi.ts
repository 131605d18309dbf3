/**
 * The `relays` group: the daemon's relay set, persisted and advertised in new handshake URLs, with per-relay status
 * (differences.md §l). Bearer auth. `DELETE /relays` takes a JSON body, as in the reference.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import { DecimalSeconds } from "./Events.js"
import * as Inputs from "./Inputs.js"
import { Authorization, JsonBody } from "./Middleware.js"

/** @category models */
export const RelayRequest = Schema.Struct({ relay: Inputs.RelayUrl }).annotations({ identifier: "RelayRequest" })

/** @category models */
export const RelayResponse = Schema.Struct({ relay: Schema.String }).annotations({ identifier: "RelayResponse" })

/** @category models */
export const RelayStatus = Schema.Struct({
  url: Schema.String,
  source: Schema.Literal("config", "api", "user"),
  status: Schema.Literal("connecting", "connected", "disconnected"),
  connected_since: Schema.NullOr(DecimalSeconds),
  last_error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "RelayStatus" })

/** @category models */
export const RelayList = Schema.Struct({ relays: Schema.Array(RelayStatus) }).annotations({ identifier: "RelayList" })

/** @category groups */
export class RelaysApi extends HttpApiGroup.make("relays")
  .add(
    HttpApiEndpoint.get("list", "/relays")
      .addSuccess(Envelope.Success(RelayList))
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Every relay of the pool with its source and connection status.")
  )
  .add(
    HttpApiEndpoint.post("add", "/relays")
      .setPayload(RelayRequest)
      .addSuccess(Envelope.Success(RelayResponse))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Adds a relay (persisted; idempotent); answers the normalised URL.")
  )
  .add(
    HttpApiEndpoint.del("remove", "/relays")
      .setPayload(RelayRequest)
      .addSuccess(Envelope.Success(RelayResponse))
      .addError(ApiError.BadGatewayResponse)
      .middleware(JsonBody)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Removes a relay (persisted); 404 when it is not in the set.")
  ) {}
