/**
 * Handler of `POST /calendar/next-occurrence`: the first instant ≥ `from` that matches the calendar
 * (protocol.md §12, `@portal/protocol/Calendar`), or `null`.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { PortalApi } from "@portal/api/PortalApi"
import * as Calendar from "@portal/protocol/Calendar"
import * as Primitives from "@portal/protocol/Primitives"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** @category layers */
export const CalendarHandlers = HttpApiBuilder.group(PortalApi, "calendar", (handlers) =>
  handlers.handle("nextOccurrence", ({ payload }) =>
    Effect.succeed({
      success: true as const,
      data: {
        next_occurrence: Option.map(Calendar.nextOccurrence(payload.calendar, payload.from), (seconds) =>
          Primitives.UnixSeconds.make(seconds)
        )
      }
    })
  )
)
