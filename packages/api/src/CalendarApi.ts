/**
 * The `calendar` group: the next occurrence of a recurrence calendar (protocol.md §12), inclusive of `from`.
 * Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Primitives from "@portal/protocol/Primitives"
import * as Schema from "effect/Schema"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { Authorization, JsonBody } from "./Middleware.js"

/** @category models */
export const NextOccurrenceRequest = Schema.Struct({
  calendar: Inputs.CalendarInput,
  from: Inputs.Timestamp
}).annotations({ identifier: "NextOccurrenceRequest" })

/**
 * `next_occurrence`: Unix seconds as a decimal string, or `null` when there is none (up to 2099).
 * @category models
 */
export const NextOccurrence = Schema.Struct({
  next_occurrence: Schema.OptionFromNullOr(Primitives.TimestampFromString)
}).annotations({ identifier: "NextOccurrence" })

/** @category groups */
export class CalendarApi extends HttpApiGroup.make("calendar").add(
  HttpApiEndpoint.post("nextOccurrence", "/calendar/next-occurrence")
    .setPayload(NextOccurrenceRequest)
    .addSuccess(Envelope.Success(NextOccurrence))
    .middleware(JsonBody)
    .middleware(Authorization)
    .annotate(
      OpenApi.Description,
      'The first instant ≥ `from` matching `calendar` (e.g. `{"calendar":"daily","from":"1700000000"}` → ' +
        '`"1700006400"`), or null.'
    )
) {}
