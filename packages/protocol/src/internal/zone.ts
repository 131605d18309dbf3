/**
 * Civil (proleptic Gregorian) date arithmetic and IANA time-zone offsets for the recurrence calendar.
 *
 * Offsets come from `Intl.DateTimeFormat` (Node ships full ICU); formatters are built once per zone and cached.
 * Local wall-clock times are handled as "naive seconds": the Unix-seconds value the wall clock would have in UTC.
 * Instants are Unix seconds. Nothing here throws: an unknown zone is `undefined`.
 */
import * as Either from "effect/Either"

/** A wall-clock date and time, month and day 1-based. */
export interface LocalTime {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

/** Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`). */
export const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** Weekday of a civil date, Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday). */
export const weekdayOf = (year: number, month: number, day: number): number =>
  (((daysFromCivil(year, month, day) + 3) % 7) + 7) % 7

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

/** Number of days in a month of a year, Gregorian leap rule. */
export const daysInMonth = (year: number, month: number): number =>
  month === 2 && isLeapYear(year) ? 29 : (monthLengths[month - 1] ?? 31)

/** The naive seconds of a wall-clock time. */
export const toNaive = (t: LocalTime): number =>
  daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second

/** The wall-clock time of naive seconds (inverse of `toNaive`). */
export const fromNaive = (naive: number): LocalTime => {
  const days = Math.floor(naive / 86400)
  const secs = naive - days * 86400
  // Howard Hinnant's civil_from_days
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    minute: Math.floor((secs % 3600) / 60),
    second: secs % 60
  }
}

/** A time zone: its offset from UTC, in seconds east, at an instant. */
export interface Zone {
  readonly offset: (instant: number) => number
}

/** UTC: offset 0 everywhere. */
export const utc: Zone = { offset: () => 0 }

const makeFormatter = (name: string): Either.Either<Intl.DateTimeFormat, unknown> =>
  Either.try(
    () =>
      new Intl.DateTimeFormat("en-US", {
        timeZone: name,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric"
      })
  )

const partValue = (parts: ReadonlyArray<Intl.DateTimeFormatPart>, type: Intl.DateTimeFormatPartTypes): number => {
  for (const part of parts) {
    if (part.type === type) return Number(part.value)
  }
  return 0
}

const directOffset = (formatter: Intl.DateTimeFormat, instant: number): number => {
  const parts = formatter.formatToParts(instant * 1000)
  const local = toNaive({
    year: partValue(parts, "year"),
    month: partValue(parts, "month"),
    day: partValue(parts, "day"),
    hour: partValue(parts, "hour") % 24,
    minute: partValue(parts, "minute"),
    second: partValue(parts, "second")
  })
  return local - instant
}

/** The instants this module handles: 1969-01-01 to 2101-01-01, a little more than the calendar's 1970–2099. */
export const minInstant = -31536000
export const maxInstant = 4133980800

const sampleStep = 2 * 86400
const samplesPerSpan = 182
const span = samplesPerSpan * sampleStep

/**
 * Offsets of one 364-day span: sampled every 2 days, each change located to the second by bisection. Assumes at
 * most one offset change per 2 days. A scan of every zone ICU knows over 1969–2100 found the closest two changes a
 * week apart (America/Boa_Vista, October 2000).
 */
interface SpanTable {
  readonly initial: number
  readonly changes: ReadonlyArray<readonly [at: number, offset: number]>
}

const spanTable = (formatter: Intl.DateTimeFormat, index: number): SpanTable => {
  const start = index * span
  const initial = directOffset(formatter, start)
  const changes: Array<readonly [number, number]> = []
  let previous = initial
  for (let i = 1; i <= samplesPerSpan; i++) {
    const sampleAt = start + i * sampleStep
    const offset = directOffset(formatter, sampleAt)
    if (offset !== previous) {
      let low = sampleAt - sampleStep // offset here is `previous`
      let high = sampleAt // offset here is `offset`
      while (high - low > 1) {
        const mid = Math.floor((low + high) / 2)
        if (directOffset(formatter, mid) === previous) low = mid
        else high = mid
      }
      changes.push([high, offset])
      previous = offset
    }
  }
  return { initial, changes }
}

const zoneOf = (formatter: Intl.DateTimeFormat): Zone => {
  const spans = new Map<number, SpanTable>()
  return {
    offset: (instant) => {
      if (instant < minInstant || instant > maxInstant) return directOffset(formatter, instant)
      const index = Math.floor(instant / span)
      let table = spans.get(index)
      if (table === undefined) {
        table = spanTable(formatter, index)
        spans.set(index, table)
      }
      let offset = table.initial
      for (const [at, next] of table.changes) {
        if (at > instant) break
        offset = next
      }
      return offset
    }
  }
}

// Valid zones only: a finite set of a few hundred names, so the cache stays small.
const zones = new Map<string, Zone>()

let canonicalByLowerCase: Map<string, string> | undefined
const canonicalNames = (): Map<string, string> => {
  if (canonicalByLowerCase === undefined) {
    canonicalByLowerCase = new Map(Intl.supportedValuesOf("timeZone").map((name) => [name.toLowerCase(), name]))
  }
  return canonicalByLowerCase
}

const zoneNameShape = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/

/**
 * The zone of an IANA name, or `undefined` when the name is unknown. Names are case-sensitive like the reference's
 * `chrono_tz` (ICU itself is not): a name that ICU knows only under another capitalisation is refused. For link
 * names (`US/Eastern`) ICU reveals no canonical spelling, so their capitalisation cannot be checked.
 */
export const zone = (name: string): Zone | undefined => {
  const cached = zones.get(name)
  if (cached !== undefined) return cached
  if (!zoneNameShape.test(name)) return undefined
  const formatter = makeFormatter(name)
  if (Either.isLeft(formatter)) return undefined
  const lower = name.toLowerCase()
  const resolved = formatter.right.resolvedOptions().timeZone
  const canonical = canonicalNames().get(lower)
  if ((resolved.toLowerCase() === lower && resolved !== name) || (canonical !== undefined && canonical !== name)) {
    return undefined
  }
  const result = zoneOf(formatter.right)
  zones.set(name, result)
  return result
}

/**
 * The instants, ascending, whose wall clock in `z` reads `naive`: none in a DST gap, two in a DST fold.
 * Assumes at most one offset change within a day of `naive`, which holds for every IANA zone in 1970–2099.
 */
export const possibleInstants = (z: Zone, naive: number): ReadonlyArray<number> => {
  const before = naive - z.offset(naive - 86400)
  const after = naive - z.offset(naive + 86400)
  const candidates = before === after ? [before] : before < after ? [before, after] : [after, before]
  return candidates.filter((instant) => instant + z.offset(instant) === naive)
}

/**
 * For a wall-clock time inside a DST gap, the naive seconds of the first wall-clock time after the gap. Never
 * returns a value ≤ `naive`, so callers always move forward.
 */
export const gapEnd = (z: Zone, naive: number): number => {
  const offsetBefore = z.offset(naive - 86400)
  const offsetAfter = z.offset(naive + 86400)
  // The transition instant lies in (naive - offsetAfter, naive - offsetBefore]: find the first instant whose wall
  // clock is past `naive`.
  let low = naive - Math.max(offsetBefore, offsetAfter)
  let high = naive - Math.min(offsetBefore, offsetAfter)
  if (high + z.offset(high) <= naive) return naive + 1
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2)
    if (mid + z.offset(mid) > naive) high = mid
    else low = mid
  }
  return Math.max(high + z.offset(high), naive + 1)
}
