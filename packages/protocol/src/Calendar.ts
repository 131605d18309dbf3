/**
 * The recurrence calendar of recurring payments (protocol.md §12): a systemd-like `[weekdays] Y-M-D h:m:s [zone]`
 * expression, its wire form (`RecurrenceInfo.calendar`), the next occurrence after an instant and a human-readable
 * description, following the reference's `calendar.rs`.
 *
 * Differences from the reference, on purpose:
 * - a range step of 0 is refused while parsing (`InvalidRange`); the reference accepts it and then panics;
 * - an inverted weekday range (`Fri..Mon`) is refused (`InvalidRange`); the reference yields an empty weekday list
 *   that never matches and does not survive printing and parsing again;
 * - `nextOccurrence` never returns an instant before `from`: in a DST fold it takes the earliest instant of the
 *   matching wall-clock time that is not before `from`.
 *
 * The wire form never carries the timezone, so a calendar received over Nostr is always UTC.
 * Zones are IANA names checked with `Intl` (full ICU); offsets come from `Intl.DateTimeFormat`.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Equiv from "effect/Equivalence"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as RustText from "./internal/rustText.js"
import * as Zone from "./internal/zone.js"
import { CalendarError } from "./ProtocolError.js"

// ---------------------------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------------------------

/**
 * A day of the week as printed on the wire. Numbering is Mon = 0 … Sun = 6.
 * @category model
 */
export const Weekday = Schema.Literal("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
/** @category model */
export type Weekday = typeof Weekday.Type

const weekdayNames = Weekday.literals

/**
 * `*`: matches every value of the component.
 * @category model
 */
export const Any = Schema.TaggedStruct("Any", {})

/**
 * A sorted list of values (`1,15`, or a single `08`).
 * @category model
 */
export const Values = Schema.TaggedStruct("Values", { values: Schema.NonEmptyArray(Schema.Int) })

/**
 * `start..end[/step]`: `start, start + step, …` up to `end`. Without a step, every value in between.
 * @category model
 */
export const Range = Schema.TaggedStruct("Range", {
  start: Schema.Int,
  end: Schema.Int,
  step: Schema.OptionFromSelf(Schema.Int)
})

/**
 * One numeric component of a calendar (year, month, day, hour, minute or second).
 * @category model
 */
export const TimeComponent = Schema.Union(Any, Values, Range)
/** @category model */
export type TimeComponent = typeof TimeComponent.Type

/** @category guards */
export const isAny = (c: TimeComponent): c is typeof Any.Type => Predicate.isTagged(c, "Any")
/** @category guards */
export const isValues = (c: TimeComponent): c is typeof Values.Type => Predicate.isTagged(c, "Values")
/** @category guards */
export const isRange = (c: TimeComponent): c is typeof Range.Type => Predicate.isTagged(c, "Range")

interface Bounds {
  readonly name: string
  readonly min: number
  readonly max: number
}

const yearBounds: Bounds = { name: "year", min: 1970, max: 2099 }
const monthBounds: Bounds = { name: "month", min: 1, max: 12 }
const dayBounds: Bounds = { name: "day", min: 1, max: 31 }
const hourBounds: Bounds = { name: "hour", min: 0, max: 23 }
const minuteBounds: Bounds = { name: "minute", min: 0, max: 59 }
const secondBounds: Bounds = { name: "second", min: 0, max: 59 }

const componentProblem = (c: TimeComponent, { max, min, name }: Bounds): string | undefined => {
  if (isValues(c)) {
    const bad = c.values.find((v) => v < min || v > max)
    if (bad !== undefined) return `${name}: ${bad} is outside ${min}..${max}`
    return c.values.every((v, i) => i === 0 || c.values[i - 1]! <= v) ? undefined : `${name}: values must be sorted`
  }
  if (isRange(c)) {
    if (c.start > c.end) return `${name}: range start ${c.start} > end ${c.end}`
    if (c.start < min || c.end > max) return `${name}: range ${c.start}..${c.end} is outside ${min}..${max}`
    return Option.isSome(c.step) && c.step.value < 1 ? `${name}: range step must be ≥ 1` : undefined
  }
  return undefined
}

const boundedComponent = (bounds: Bounds) =>
  TimeComponent.pipe(Schema.filter((c) => componentProblem(c, bounds) ?? true))

/**
 * An IANA zone name that `Intl` knows, spelt with the reference's (case-sensitive) capitalisation.
 * @category model
 */
export const TimezoneName = Schema.String.pipe(
  Schema.filter((name) => Zone.zone(name) !== undefined || `unknown IANA time zone ${JSON.stringify(name)}`)
)

/**
 * A parsed recurrence calendar. `timezone` None means UTC. Build one with `parse` (or a keyword with
 * `fromKeyword`); the constructor checks every component against its range.
 * @category model
 */
export class Calendar extends Schema.Class<Calendar>("Calendar")({
  weekdays: Schema.OptionFromSelf(Schema.NonEmptyArray(Weekday)),
  year: boundedComponent(yearBounds),
  month: boundedComponent(monthBounds),
  day: boundedComponent(dayBounds),
  hour: boundedComponent(hourBounds),
  minute: boundedComponent(minuteBounds),
  second: boundedComponent(secondBounds),
  timezone: Schema.OptionFromSelf(TimezoneName)
}) {}

const stepEquivalence = Option.getEquivalence((x: number, y: number) => x === y)

const componentEquals = (a: TimeComponent, b: TimeComponent): boolean => {
  if (isValues(a)) {
    return isValues(b) && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i])
  }
  if (isRange(a)) return isRange(b) && a.start === b.start && a.end === b.end && stepEquivalence(a.step, b.step)
  return isAny(b)
}

/**
 * Structural equality of two calendars (every component, the weekday list in order, and the zone).
 * @category equivalence
 */
export const Equivalence: Equiv.Equivalence<Calendar> = (a, b) =>
  sameSchedule(a, b) && Option.getEquivalence((x: string, y: string) => x === y)(a.timezone, b.timezone)

type Schedule = Omit<Calendar, "timezone">

const sameSchedule = (a: Schedule, b: Schedule): boolean =>
  Option.getEquivalence(
    (x: ReadonlyArray<Weekday>, y: ReadonlyArray<Weekday>) => x.length === y.length && x.every((w, i) => w === y[i])
  )(a.weekdays, b.weekdays) &&
  componentEquals(a.year, b.year) &&
  componentEquals(a.month, b.month) &&
  componentEquals(a.day, b.day) &&
  componentEquals(a.hour, b.hour) &&
  componentEquals(a.minute, b.minute) &&
  componentEquals(a.second, b.second)

// ---------------------------------------------------------------------------------------------------------------
// Keywords
// ---------------------------------------------------------------------------------------------------------------

/**
 * The calendar keywords, matched case-insensitively on the untrimmed input.
 * @category keywords
 */
export type Keyword =
  "minutely" | "hourly" | "daily" | "weekly" | "monthly" | "yearly" | "annually" | "quarterly" | "semiannually"

// Plain literals rather than `make`: parsing builds many components and they are checked where they are parsed.
const any: TimeComponent = { _tag: "Any" }
const value = (...values: readonly [number, ...Array<number>]): TimeComponent => ({ _tag: "Values", values })
const zero = value(0)

interface KeywordShape {
  readonly weekdays: Option.Option<readonly [Weekday, ...Array<Weekday>]>
  readonly month: TimeComponent
  readonly day: TimeComponent
  readonly hour: TimeComponent
  readonly minute: TimeComponent
}

const everyDay = { weekdays: Option.none(), month: any, day: any }
const midnight = { hour: zero, minute: zero }

const keywordShapes: Record<Keyword, KeywordShape> = {
  minutely: { ...everyDay, hour: any, minute: any },
  hourly: { ...everyDay, hour: any, minute: zero },
  daily: { ...everyDay, ...midnight },
  weekly: { ...everyDay, weekdays: Option.some(["Mon"]), ...midnight },
  monthly: { ...everyDay, day: value(1), ...midnight },
  yearly: { ...everyDay, month: value(1), day: value(1), ...midnight },
  annually: { ...everyDay, month: value(1), day: value(1), ...midnight },
  quarterly: { ...everyDay, month: value(1, 4, 7, 10), day: value(1), ...midnight },
  semiannually: { ...everyDay, month: value(1, 7), day: value(1), ...midnight }
}

const isKeyword = (s: string): s is Keyword => Object.prototype.hasOwnProperty.call(keywordShapes, s)

/**
 * The calendar a keyword stands for (`weekly` is `Mon *-*-* 00:00:00`), in the given zone (default UTC).
 * @category keywords
 */
export const fromKeyword = (keyword: Keyword, timezone: Option.Option<string> = Option.none()): Calendar =>
  new Calendar({ ...keywordShapes[keyword], year: any, second: zero, timezone })

// The zone is not compared, like the reference's `self == &Self::daily(self.timezone)`.
const isKeywordCalendar = (calendar: Calendar, keyword: Keyword): boolean =>
  sameSchedule(calendar, { ...keywordShapes[keyword], year: any, second: zero })

const humanKeywords: ReadonlyArray<readonly [Keyword, string]> = [
  ["minutely", "Every minute"],
  ["hourly", "Every hour"],
  ["daily", "Daily"],
  ["weekly", "Weekly"],
  ["monthly", "Monthly"],
  ["yearly", "Yearly"],
  ["quarterly", "Quarterly"],
  ["semiannually", "Semi-annually"]
]

// ---------------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------------

type Parsed<A> = Either.Either<A, CalendarError>

// Rust's `u32::from_str`: an optional `+`, then decimal digits, at most u32::MAX.
const parseU32 = (s: string): number | undefined => {
  if (!/^\+?[0-9]+$/.test(s)) return undefined
  const n = Number(s)
  return n <= 0xffffffff ? n : undefined
}

const parseWeekday = (input: string, token: string): Parsed<number> => {
  const lower = token.toLowerCase()
  const index = weekdayNames.findIndex((name) => {
    const short = name.toLowerCase()
    return lower === short || lower === fullWeekdayNames[short]
  })
  return index >= 0
    ? Either.right(index)
    : Either.left(new CalendarError({ reason: "InvalidWeekday", input, detail: lower }))
}

const fullWeekdayNames: Record<string, string> = {
  mon: "monday",
  tue: "tuesday",
  wed: "wednesday",
  thu: "thursday",
  fri: "friday",
  sat: "saturday",
  sun: "sunday"
}

const parseWeekdays = (input: string, token: string): Parsed<readonly [Weekday, ...Array<Weekday>]> => {
  if (token.includes("..")) {
    const bounds = token.split("..")
    if (bounds.length !== 2) {
      return Either.left(
        new CalendarError({ reason: "InvalidFormat", input, detail: `weekday range ${token} has more than one ..` })
      )
    }
    return Either.gen(function* () {
      const start = yield* parseWeekday(input, bounds[0]!)
      const end = yield* parseWeekday(input, bounds[1]!)
      if (start > end) {
        return yield* Either.left(
          new CalendarError({
            reason: "InvalidRange",
            input,
            detail: `weekday range ${token} runs backwards`,
            range: { start, end }
          })
        )
      }
      const days = weekdayNames.slice(start, end + 1)
      return [days[0]!, ...days.slice(1)] as const
    })
  }
  return Either.gen(function* () {
    const days: Array<Weekday> = []
    for (const piece of token.split(",")) days.push(weekdayNames[yield* parseWeekday(input, piece)]!)
    return [days[0]!, ...days.slice(1)] as const
  })
}

const invalidComponent = (input: string, detail: string) =>
  Either.left(new CalendarError({ reason: "InvalidTimeComponent", input, detail }))

const parseComponent = (input: string, s: string, { max, min, name }: Bounds): Parsed<TimeComponent> => {
  if (s === "*") return Either.right(any)
  if (s.includes("..")) {
    const parts = s.split("..")
    if (parts.length !== 2) return invalidComponent(input, `${name}: ${s}`)
    const start = parseU32(parts[0]!)
    if (start === undefined) return invalidComponent(input, `${name}: invalid start value: ${parts[0]}`)
    let endText = parts[1]!
    let step: Option.Option<number> = Option.none()
    if (endText.includes("/")) {
      const stepParts = endText.split("/")
      if (stepParts.length !== 2) return invalidComponent(input, `${name}: ${s}`)
      const parsedStep = parseU32(stepParts[1]!)
      endText = stepParts[0]!
      if (parseU32(endText) === undefined) return invalidComponent(input, `${name}: invalid end value: ${endText}`)
      if (parsedStep === undefined) return invalidComponent(input, `${name}: invalid step value: ${stepParts[1]}`)
      step = Option.some(parsedStep)
    }
    const end = parseU32(endText)
    if (end === undefined) return invalidComponent(input, `${name}: invalid end value: ${endText}`)
    if (start > end) {
      return Either.left(
        new CalendarError({
          reason: "InvalidRange",
          input,
          detail: `${name}: ${start} > ${end}`,
          range: { start, end }
        })
      )
    }
    if (start < min || end > max) return invalidComponent(input, `${name}: range ${start}-${end} is out of range`)
    if (Option.isSome(step) && step.value === 0) {
      return Either.left(
        new CalendarError({ reason: "InvalidRange", input, detail: `${name}: step 0 in ${s}`, range: { start, end } })
      )
    }
    return Either.right({ _tag: "Range", start, end, step })
  }
  const values: Array<number> = []
  for (const piece of s.split(",")) {
    const v = parseU32(piece)
    if (v === undefined) return invalidComponent(input, `${name}: invalid value: ${piece}`)
    if (v < min || v > max) return invalidComponent(input, `${name}: value ${v} is out of range`)
    values.push(v)
  }
  const sorted = Arr.sort(values, Order.number)
  return Either.right(value(sorted[0]!, ...sorted.slice(1)))
}

const parseEither = (input: string): Parsed<Calendar> => {
  const lower = input.toLowerCase()
  if (isKeyword(lower)) return Either.right(fromKeyword(lower))
  const tokens = RustText.splitWhitespace(input)
  if (tokens.length === 0) {
    return Either.left(new CalendarError({ reason: "InvalidFormat", input, detail: "empty calendar" }))
  }
  return Either.gen(function* () {
    let weekdays: Option.Option<readonly [Weekday, ...Array<Weekday>]> = Option.none()
    let date: ReadonlyArray<string> = []
    let time: ReadonlyArray<string> | undefined
    let timezone: Option.Option<string> = Option.none()
    for (const [i, token] of tokens.entries()) {
      if (token.includes(":")) {
        time = token.split(":")
      } else if (token.includes("-") || token === "*") {
        if (time !== undefined) {
          return yield* Either.left(
            new CalendarError({ reason: "InvalidFormat", input, detail: `date part ${token} after the time part` })
          )
        }
        date = token.split("-")
      } else if (i === 0) {
        weekdays = Option.some(yield* parseWeekdays(input, token))
      } else if (time !== undefined) {
        if (Zone.zone(token) === undefined) {
          return yield* Either.left(new CalendarError({ reason: "InvalidTimezone", input, detail: token }))
        }
        timezone = Option.some(token)
      } else {
        return yield* Either.left(
          new CalendarError({ reason: "InvalidFormat", input, detail: `unexpected token ${token}` })
        )
      }
    }
    const year = yield* parseComponent(input, date[0] ?? "*", yearBounds)
    const month = yield* parseComponent(input, date[1] ?? "*", monthBounds)
    const day = yield* parseComponent(input, date[2] ?? "*", dayBounds)
    const hour = yield* parseComponent(input, time?.[0] ?? "*", hourBounds)
    const minute = yield* parseComponent(input, time?.[1] ?? "*", minuteBounds)
    const second = yield* parseComponent(input, time?.[2] ?? "0", secondBounds)
    return new Calendar({ weekdays, year, month, day, hour, minute, second, timezone }, true)
  })
}

/**
 * Parses a calendar: a keyword (`daily`, `Monthly`…) or `[weekdays] [Y-M-D] [h:m[:s]] [Zone/Name]`. Missing date
 * parts are `*`; missing time parts are `*`, except the second, which is `0`. Never throws.
 * @category parsing
 */
export const parse = (input: string): Effect.Effect<Calendar, CalendarError> => parseEither(input)

// ---------------------------------------------------------------------------------------------------------------
// Wire form
// ---------------------------------------------------------------------------------------------------------------

const pad2 = (v: number): string => (v < 10 ? `0${v}` : `${v}`)

const formatComponent = (c: TimeComponent): string => {
  if (isValues(c)) return c.values.map(pad2).join(",")
  if (isRange(c)) {
    return `${pad2(c.start)}..${pad2(c.end)}${Option.match(c.step, { onNone: () => "", onSome: (s) => `/${s}` })}`
  }
  return "*"
}

/**
 * The normalised wire form, `[Mon,Wed ]YYYY-MM-DD hh:mm:ss` with every value zero-padded. The timezone is never
 * printed. `parse(format(c))` gives `c` back (without its zone).
 * @category formatting
 */
export const format = (calendar: Calendar): string => {
  const weekdays = Option.match(calendar.weekdays, { onNone: () => "", onSome: (days) => `${days.join(",")} ` })
  const { day, hour, minute, month, second, year } = calendar
  return `${weekdays}${formatComponent(year)}-${formatComponent(month)}-${formatComponent(day)} ${formatComponent(hour)}:${formatComponent(minute)}:${formatComponent(second)}`
}

/**
 * A calendar on the wire: a string, decoded with `parse` and encoded with `format` (which drops the zone).
 * @category schemas
 */
export const CalendarFromString = Schema.transformOrFail(Schema.String, Schema.typeSchema(Calendar), {
  strict: true,
  decode: (input, _, ast) =>
    Either.mapLeft(parseEither(input), (error) => new ParseResult.Type(ast, input, error.message)),
  encode: (calendar) => ParseResult.succeed(format(calendar))
}).annotations({ identifier: "CalendarFromString" })

// ---------------------------------------------------------------------------------------------------------------
// Next occurrence
// ---------------------------------------------------------------------------------------------------------------

/** The smallest candidate of `c` that is ≥ `from` and ≤ `max`, or -1. */
const nextValue = (c: TimeComponent, from: number, max: number): number => {
  if (isValues(c)) {
    for (const v of c.values) if (v >= from) return v <= max ? v : -1
    return -1
  }
  if (isRange(c)) {
    const step = Math.max(
      1,
      Option.getOrElse(c.step, () => 1)
    )
    const candidate = from <= c.start ? c.start : c.start + Math.ceil((from - c.start) / step) * step
    return candidate <= Math.min(c.end, max) ? candidate : -1
  }
  return from <= max ? from : -1
}

const contains = (c: TimeComponent, v: number, max: number): boolean => v <= max && nextValue(c, v, v) === v

const weekdayIndexes = (calendar: Calendar): ReadonlyArray<boolean> | undefined =>
  Option.match(calendar.weekdays, {
    onNone: () => undefined,
    onSome: (days) => weekdayNames.map((name) => days.includes(name))
  })

/**
 * The first wall-clock time ≥ `start` (field by field, like the reference's walk) that matches every component,
 * up to 2099. Whole years, months and days that cannot match are skipped.
 */
const nextLocal = (calendar: Calendar, start: Zone.LocalTime): Zone.LocalTime | undefined => {
  const { day, hour, minute, month, second, year } = calendar
  const weekdays = weekdayIndexes(calendar)
  for (let y = nextValue(year, start.year, yearBounds.max); y !== -1; y = nextValue(year, y + 1, yearBounds.max)) {
    const sameYear = y === start.year
    for (let mo = nextValue(month, sameYear ? start.month : 1, 12); mo !== -1; mo = nextValue(month, mo + 1, 12)) {
      const sameMonth = sameYear && mo === start.month
      const length = Zone.daysInMonth(y, mo)
      for (let d = nextValue(day, sameMonth ? start.day : 1, length); d !== -1; d = nextValue(day, d + 1, length)) {
        if (weekdays !== undefined && !weekdays[Zone.weekdayOf(y, mo, d)]) continue
        const sameDay = sameMonth && d === start.day
        for (let h = nextValue(hour, sameDay ? start.hour : 0, 23); h !== -1; h = nextValue(hour, h + 1, 23)) {
          const sameHour = sameDay && h === start.hour
          for (
            let mi = nextValue(minute, sameHour ? start.minute : 0, 59);
            mi !== -1;
            mi = nextValue(minute, mi + 1, 59)
          ) {
            const s = nextValue(second, sameHour && mi === start.minute ? start.second : 0, 59)
            if (s !== -1) return { year: y, month: mo, day: d, hour: h, minute: mi, second: s }
          }
        }
      }
    }
  }
  return undefined
}

// A guard against a zone database with more transitions than any real one: each round moves strictly forward.
const maxRounds = 10_000

/**
 * The first instant (Unix seconds) ≥ `from` whose wall clock in the calendar's zone (UTC when none) matches the
 * calendar; inclusive, one-second resolution, None when there is none up to the end of 2099. Wall-clock times in
 * a DST gap are skipped; in a DST fold the earliest instant not before `from` is taken. A fractional `from` is
 * rounded up, a negative one counts as 0 (the reference's timestamps are unsigned) and one after 2100 gives None.
 * @category next occurrence
 */
export const nextOccurrence = (calendar: Calendar, from: number): Option.Option<number> => {
  if (Number.isNaN(from) || from > Zone.maxInstant) return Option.none()
  const fromSeconds = Math.max(0, Math.ceil(from))
  const zone = Option.match(calendar.timezone, { onNone: () => Zone.utc, onSome: Zone.zone })
  if (zone === undefined) return Option.none()
  let start = Zone.fromNaive(fromSeconds + zone.offset(fromSeconds))
  for (let round = 0; round < maxRounds; round++) {
    const local = nextLocal(calendar, start)
    if (local === undefined) return Option.none()
    const naive = Zone.toNaive(local)
    if (zone === Zone.utc) return Option.some(naive)
    const instants = Zone.possibleInstants(zone, naive)
    const instant = instants.find((t) => t >= fromSeconds)
    if (instant !== undefined) return Option.some(instant)
    start = Zone.fromNaive(instants.length === 0 ? Zone.gapEnd(zone, naive) : naive + 1)
  }
  return Option.none()
}

/**
 * Whether the wall clock of `instant` in the calendar's zone matches every component of the calendar, in a year up to
 * 2099 (the calendar's horizon, as for `nextOccurrence`).
 * @category next occurrence
 */
export const matches = (calendar: Calendar, instant: number): boolean => {
  const zone = Option.match(calendar.timezone, { onNone: () => Zone.utc, onSome: Zone.zone })
  if (zone === undefined || !Number.isInteger(instant) || instant < Zone.minInstant || instant > Zone.maxInstant) {
    return false
  }
  const t = Zone.fromNaive(instant + zone.offset(instant))
  const weekdays = weekdayIndexes(calendar)
  return (
    (weekdays === undefined || weekdays[Zone.weekdayOf(t.year, t.month, t.day)] === true) &&
    contains(calendar.year, t.year, yearBounds.max) &&
    contains(calendar.month, t.month, 12) &&
    contains(calendar.day, t.day, 31) &&
    contains(calendar.hour, t.hour, 23) &&
    contains(calendar.minute, t.minute, 59) &&
    contains(calendar.second, t.second, 59)
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Human-readable text
// ---------------------------------------------------------------------------------------------------------------

const ordinal = (n: number): string => {
  const suffix =
    n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th"
  return `${n}${suffix}`
}

const steppedRange = (c: TimeComponent): Option.Option<number> => (isRange(c) ? c.step : Option.none())

const frequencyText = (c: Calendar): string => {
  const dateAny = isAny(c.year) && isAny(c.month)
  const everyMinutes = steppedRange(c.minute)
  if (dateAny && isAny(c.day) && isAny(c.hour) && Option.isSome(everyMinutes)) {
    return `Every ${everyMinutes.value} minutes`
  }
  const everyHours = steppedRange(c.hour)
  if (dateAny && isAny(c.day) && Option.isSome(everyHours)) return `Every ${everyHours.value} hours`
  const everyDays = steppedRange(c.day)
  if (dateAny && Option.isSome(everyDays)) return `Every ${everyDays.value} days`
  if (dateAny && isAny(c.day)) return "Every day"
  if (isValues(c.day) && c.day.values.length === 1) return `On the ${ordinal(c.day.values[0])} day of each month`
  return "On a custom schedule"
}

const single = (c: TimeComponent): number | undefined =>
  isValues(c) && c.values.length === 1 ? c.values[0] : undefined

const timeText = (c: Calendar): string | undefined => {
  const h = single(c.hour)
  const m = single(c.minute)
  if (h === undefined || m === undefined || single(c.second) === undefined) return undefined
  if (h === 12 && m === 0) return "noon"
  if (h === 0 && m === 0) return "midnight"
  const h12 = h === 0 ? 12 : h > 12 ? h - 12 : h
  return `${pad2(h12)}:${pad2(m)} ${h >= 12 ? "PM" : "AM"}`
}

/**
 * English text for a calendar, as the reference writes it: `Daily`, `Every 10 minutes`,
 * `On the 15th day of each month at 02:30 PM (US/Eastern)`. The zone is shown when `showTimezone` and set.
 * @category formatting
 */
export const toHumanReadable = (calendar: Calendar, showTimezone = true): string => {
  const named = humanKeywords.find(([keyword]) => isKeywordCalendar(calendar, keyword))
  if (named !== undefined) return named[1]
  const parts = [frequencyText(calendar)]
  if (Option.isSome(calendar.weekdays)) parts.push(`on ${calendar.weekdays.value.join(", ")}`)
  const time = timeText(calendar)
  if (time !== undefined) parts.push(`at ${time}`)
  if (showTimezone && Option.isSome(calendar.timezone)) parts.push(`(${calendar.timezone.value})`)
  return parts.join(" ")
}
