import { assert, describe, it } from "@effect/vitest"
import * as Calendar from "@portal/protocol/Calendar"
import { CalendarError } from "@portal/protocol/ProtocolError"
import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"

// ---------------------------------------------------------------------------------------------------------------
// Conformance vectors (../shared/vectors/calendar.json), decoded rather than cast
// ---------------------------------------------------------------------------------------------------------------

const Named = { name: Schema.String, input: Schema.String }

const ParseVector = Schema.Struct({
  ...Named,
  group: Schema.Literal("parse"),
  normalized: Schema.String,
  timezone: Schema.NullOr(Schema.String),
  weekdays: Schema.NullOr(Schema.Array(Schema.String))
})
const ComponentVector = Schema.Struct({
  ...Named,
  group: Schema.Literal("component"),
  min: Schema.Number,
  max: Schema.Number,
  expected: Schema.Union(
    Schema.Struct({ type: Schema.Literal("any") }),
    Schema.Struct({ type: Schema.Literal("values"), values: Schema.Array(Schema.Number) }),
    Schema.Struct({
      type: Schema.Literal("range"),
      start: Schema.Number,
      end: Schema.Number,
      step: Schema.NullOr(Schema.Number)
    })
  )
})
const NextVector = Schema.Struct({
  ...Named,
  group: Schema.Literal("next_occurrence"),
  from: Schema.Number,
  expected: Schema.NullOr(Schema.Number),
  normalized: Schema.String,
  timezone: Schema.NullOr(Schema.String)
})
const ErrorVector = Schema.Struct({
  ...Named,
  group: Schema.Literal("parse_error"),
  error: Schema.NullOr(
    Schema.Literal("InvalidFormat", "InvalidWeekday", "InvalidTimeComponent", "InvalidRange", "InvalidTimezone")
  ),
  error_detail: Schema.optional(
    Schema.Union(Schema.String, Schema.Struct({ start: Schema.Number, end: Schema.Number }))
  )
})
const HumanVector = Schema.Struct({
  ...Named,
  group: Schema.Literal("human_readable"),
  show_timezone: Schema.Boolean,
  expected: Schema.String
})
const CalendarVectors = Schema.parseJson(
  Schema.Struct({
    vectors: Schema.Array(Schema.Union(ParseVector, ComponentVector, NextVector, ErrorVector, HumanVector))
  })
)

const vectors = Schema.decodeUnknownSync(CalendarVectors)(
  readFileSync(new URL("../../../../shared/vectors/calendar.json", import.meta.url), "utf8")
).vectors

const group = <G extends (typeof vectors)[number]["group"]>(g: G) =>
  vectors.filter((v): v is Extract<(typeof vectors)[number], { group: G }> => v.group === g)

// A component vector names its bounds; the calendar position with those bounds carries it.
const componentPositions: ReadonlyArray<{
  readonly min: number
  readonly max: number
  readonly template: (c: string) => string
  readonly pick: (c: Calendar.Calendar) => Calendar.TimeComponent
}> = [
  { min: 1970, max: 2099, template: (c) => `${c}-01-01 00:00:00`, pick: (c) => c.year },
  { min: 1, max: 12, template: (c) => `*-${c}-01 00:00:00`, pick: (c) => c.month },
  { min: 1, max: 31, template: (c) => `*-01-${c} 00:00:00`, pick: (c) => c.day },
  { min: 0, max: 23, template: (c) => `*-*-* ${c}:00:00`, pick: (c) => c.hour },
  { min: 0, max: 59, template: (c) => `*-*-* 00:${c}:00`, pick: (c) => c.minute }
]

describe("Calendar vectors", () => {
  it("cover every group", () => {
    for (const g of ["parse", "component", "next_occurrence", "parse_error", "human_readable"] as const) {
      assert.isAbove(group(g).length, 0, g)
    }
  })

  for (const v of group("parse")) {
    it.effect(`parse: ${v.name}`, () =>
      Effect.gen(function* () {
        const calendar = yield* Calendar.parse(v.input)
        assert.strictEqual(Calendar.format(calendar), v.normalized)
        assert.strictEqual(Option.getOrNull(calendar.timezone), v.timezone)
        assert.deepStrictEqual(Option.getOrNull(calendar.weekdays), v.weekdays)
      })
    )
  }

  for (const v of group("component")) {
    it.effect(`component: ${v.name}`, () =>
      Effect.gen(function* () {
        const position = componentPositions.find((p) => p.min === v.min && p.max === v.max)
        assert.isDefined(position, `no calendar component has bounds ${v.min}..${v.max}`)
        const calendar = yield* Calendar.parse(position!.template(v.input))
        const expected: Calendar.TimeComponent =
          v.expected.type === "any"
            ? Calendar.Any.make({})
            : v.expected.type === "values"
              ? Calendar.Values.make({ values: [v.expected.values[0]!, ...v.expected.values.slice(1)] })
              : Calendar.Range.make({
                  start: v.expected.start,
                  end: v.expected.end,
                  step: Option.fromNullable(v.expected.step)
                })
        assert.deepStrictEqual(position!.pick(calendar), expected)
      })
    )
  }

  for (const v of group("next_occurrence")) {
    it.effect(`next occurrence: ${v.name}`, () =>
      Effect.gen(function* () {
        const calendar = yield* Calendar.parse(v.input)
        assert.strictEqual(Calendar.format(calendar), v.normalized)
        assert.strictEqual(Option.getOrNull(calendar.timezone), v.timezone)
        assert.strictEqual(Option.getOrNull(Calendar.nextOccurrence(calendar, v.from)), v.expected)
      })
    )
  }

  for (const v of group("parse_error")) {
    it.effect(`parse error: ${v.name}`, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Calendar.parse(v.input))
        assert.instanceOf(error, CalendarError)
        assert.strictEqual(error.input, v.input)
        if (v.error !== null) assert.strictEqual(error.reason, v.error)
        if (typeof v.error_detail === "string") assert.strictEqual(error.detail, v.error_detail)
        if (typeof v.error_detail === "object") assert.deepStrictEqual(error.range, v.error_detail)
      })
    )
  }

  for (const v of group("human_readable")) {
    it.effect(`human readable: ${v.name}`, () =>
      Effect.gen(function* () {
        const calendar = yield* Calendar.parse(v.input)
        assert.strictEqual(Calendar.toHumanReadable(calendar, v.show_timezone), v.expected)
      })
    )
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Behaviour beyond the vectors
// ---------------------------------------------------------------------------------------------------------------

const utcSeconds = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000

describe("Calendar.parse", () => {
  it.effect("rejects step 0 in any position as InvalidRange", () =>
    Effect.gen(function* () {
      for (const input of ["2020..2030/0-*-* 00:00:00", "*-01..12/0-01 00:00:00", "*-*-* 00..23/0:00:00"]) {
        const error = yield* Effect.flip(Calendar.parse(input))
        assert.strictEqual(error.reason, "InvalidRange", input)
      }
    })
  )

  it.effect("rejects an inverted weekday range instead of matching nothing", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Calendar.parse("Fri..Mon *-*-* 00:00:00"))
      assert.strictEqual(error.reason, "InvalidRange")
      assert.deepStrictEqual(error.range, { start: 4, end: 0 })
    })
  )

  it.effect("refuses a zone in the wrong case, like the reference's case-sensitive zone names", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Calendar.parse("*-*-* 12:00 europe/rome"))
      assert.strictEqual(error.reason, "InvalidTimezone")
      assert.strictEqual(error.detail, "europe/rome")
      const ok = yield* Calendar.parse("*-*-* 12:00 Europe/Rome")
      assert.deepStrictEqual(ok.timezone, Option.some("Europe/Rome"))
    })
  )

  it.effect("sorts value lists and reads unpadded and padded values alike", () =>
    Effect.gen(function* () {
      const calendar = yield* Calendar.parse("*-*-15,1,8 9:5")
      assert.strictEqual(Calendar.format(calendar), "*-*-01,08,15 09:05:00")
    })
  )

  it("the Calendar constructor refuses out-of-range components", () => {
    const base = { weekdays: Option.none(), year: Calendar.Any.make({}), day: Calendar.Any.make({}) } as const
    const fields = {
      ...base,
      hour: Calendar.Any.make({}),
      minute: Calendar.Any.make({}),
      second: Calendar.Values.make({ values: [0] }),
      timezone: Option.none()
    }
    assert.throws(() => new Calendar.Calendar({ ...fields, month: Calendar.Values.make({ values: [13] }) }))
    assert.throws(
      () =>
        new Calendar.Calendar({
          ...fields,
          month: Calendar.Range.make({ start: 1, end: 12, step: Option.some(0) })
        })
    )
    assert.throws(
      () => new Calendar.Calendar({ ...fields, month: Calendar.Any.make({}), timezone: Option.some("Mars/Base") })
    )
  })
})

describe("Calendar.nextOccurrence", () => {
  it.effect("skips a DST gap to the first wall-clock time after it", () =>
    Effect.gen(function* () {
      // Europe/Rome, 2025-03-30: 02:00 CET jumps to 03:00 CEST (01:00 UTC)
      const everySecond = yield* Calendar.parse("*-*-* *:*:* Europe/Rome")
      const gapAt = utcSeconds(2025, 3, 30, 1)
      assert.deepStrictEqual(Calendar.nextOccurrence(everySecond, gapAt - 1), Option.some(gapAt - 1))
      assert.deepStrictEqual(Calendar.nextOccurrence(everySecond, gapAt), Option.some(gapAt))
      const twoOClock = yield* Calendar.parse("*-*-* 02:*:00 Europe/Rome")
      // nothing of 02:xx exists on the 30th: the next is 02:00 CEST on the 31st (00:00 UTC)
      assert.deepStrictEqual(Calendar.nextOccurrence(twoOClock, gapAt - 3600), Option.some(utcSeconds(2025, 3, 31)))
    })
  )

  it.effect("fires once per day in a DST fold: the second pass of the same wall-clock time is not an occurrence", () =>
    Effect.gen(function* () {
      // America/New_York, 2025-11-02: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST)
      const calendar = yield* Calendar.parse("*-*-* 01:30:00 America/New_York")
      const first = utcSeconds(2025, 11, 2, 5, 30)
      assert.deepStrictEqual(Calendar.nextOccurrence(calendar, first - 3600), Option.some(first))
      // the next one after the EDT occurrence is the next day, 01:30 EST
      assert.deepStrictEqual(Calendar.nextOccurrence(calendar, first + 1), Option.some(utcSeconds(2025, 11, 3, 6, 30)))
    })
  )

  it.effect("is None beyond 2099 and for calendars that can never match", () =>
    Effect.gen(function* () {
      const feb30 = yield* Calendar.parse("*-02-30 00:00:00")
      assert.isTrue(Option.isNone(Calendar.nextOccurrence(feb30, 0)))
      const daily = yield* Calendar.parse("daily")
      assert.deepStrictEqual(
        Calendar.nextOccurrence(daily, utcSeconds(2099, 12, 31)),
        Option.some(utcSeconds(2099, 12, 31))
      )
      assert.isTrue(Option.isNone(Calendar.nextOccurrence(daily, utcSeconds(2099, 12, 31) + 1)))
      assert.isTrue(Option.isNone(Calendar.nextOccurrence(daily, 1e15)))
    })
  )

  it.effect("treats odd `from` values without throwing", () =>
    Effect.gen(function* () {
      const everySecond = yield* Calendar.parse("*-*-* *:*:*")
      assert.deepStrictEqual(Calendar.nextOccurrence(everySecond, 10.5), Option.some(11))
      assert.deepStrictEqual(Calendar.nextOccurrence(everySecond, -5), Option.some(0))
      assert.isTrue(Option.isNone(Calendar.nextOccurrence(everySecond, Number.NaN)))
      assert.isTrue(Option.isNone(Calendar.nextOccurrence(everySecond, Number.POSITIVE_INFINITY)))
    })
  )

  it.live("stays fast: 10k calls on a zoned calendar and impossible calendars return promptly", () =>
    Effect.gen(function* () {
      const rome = yield* Calendar.parse("Mon,Wed 2020..2030/2-03..06/3-01,05,06 08..09/3:00,30:00 Europe/Rome")
      const feb30 = yield* Calendar.parse("Mon *-02-30 *:*:*")
      const [elapsed] = yield* Effect.timed(
        Effect.sync(() => {
          for (let i = 0; i < 10_000; i++) {
            Calendar.nextOccurrence(rome, 1_700_000_000 + i * 7919)
            Calendar.nextOccurrence(feb30, i * 86_400)
          }
        })
      )
      assert.isBelow(Duration.toMillis(elapsed), 5000)
    })
  )
})

describe("Calendar.CalendarFromString", () => {
  it.effect("decodes with parse and encodes the wire form, dropping the zone", () =>
    Effect.gen(function* () {
      const calendar = yield* Schema.decode(Calendar.CalendarFromString)("Mon..Fri *-*-* 09:00 Europe/Rome")
      assert.deepStrictEqual(calendar.timezone, Option.some("Europe/Rome"))
      assert.strictEqual(
        yield* Schema.encode(Calendar.CalendarFromString)(calendar),
        "Mon,Tue,Wed,Thu,Fri *-*-* 09:00:00"
      )
      const error = yield* Effect.flip(Schema.decodeUnknown(Calendar.CalendarFromString)("*-13-01"))
      assert.include(error.message, "InvalidTimeComponent")
      const notAString = yield* Effect.flip(Schema.decodeUnknown(Calendar.CalendarFromString)(5))
      assert.isTrue(ParseResult.isParseError(notAString))
    })
  )
})

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const component = (min: number, max: number): fc.Arbitrary<Calendar.TimeComponent> =>
  fc.oneof(
    fc.constant(Calendar.Any.make({})),
    fc
      .array(fc.integer({ min, max }), { minLength: 1, maxLength: 4 })
      .map((vs) => Arr.sort(vs, Order.number))
      .map((vs) => Calendar.Values.make({ values: [vs[0]!, ...vs.slice(1)] })),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.option(fc.integer({ min: 1, max: max - min + 2 })))
      .map(([a, b, step]) =>
        Calendar.Range.make({ start: Math.min(a, b), end: Math.max(a, b), step: Option.fromNullable(step) })
      )
  )

const weekdays = fc.option(
  fc
    .array(fc.constantFrom(...Calendar.Weekday.literals), { minLength: 1, maxLength: 4 })
    .map((ws) => [ws[0]!, ...ws.slice(1)] as const),
  { nil: undefined }
)

const zones = [
  "Europe/Rome",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "Pacific/Chatham",
  "US/Eastern"
]

const calendarArbitrary = (timezone: fc.Arbitrary<string | undefined>) =>
  fc
    .record({
      weekdays,
      year: component(1970, 2099),
      month: component(1, 12),
      day: component(1, 31),
      hour: component(0, 23),
      minute: component(0, 59),
      second: component(0, 59),
      timezone
    })
    .map(
      (f) =>
        new Calendar.Calendar({
          ...f,
          weekdays: Option.fromNullable(f.weekdays),
          timezone: Option.fromNullable(f.timezone)
        })
    )

const utcCalendar = calendarArbitrary(fc.constant(undefined))
const zonedCalendar = calendarArbitrary(fc.option(fc.constantFrom(...zones), { nil: undefined }))

// Independent of the module: wall-clock fields from Intl, component semantics written out again.
const localFields = (zone: string, instant: number) => {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    weekday: "short",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric"
  }).formatToParts(instant * 1000)
  const get = (type: string) => parts.find((p) => p.type === type)!.value
  return {
    weekday: get("weekday"),
    values: [get("year"), get("month"), get("day"), get("hour"), get("minute"), get("second")].map(Number)
  }
}

const componentHas = (c: Calendar.TimeComponent, v: number): boolean =>
  Calendar.isValues(c)
    ? c.values.includes(v)
    : Calendar.isRange(c)
      ? v >= c.start && v <= c.end && (v - c.start) % Option.getOrElse(c.step, () => 1) === 0
      : true

const wallClockMatches = (calendar: Calendar.Calendar, instant: number): boolean => {
  const { values, weekday } = localFields(
    Option.getOrElse(calendar.timezone, () => "UTC"),
    instant
  )
  const components = [calendar.year, calendar.month, calendar.day, calendar.hour, calendar.minute, calendar.second]
  return (
    Option.match(calendar.weekdays, { onNone: () => true, onSome: (ws) => ws.some((w) => w === weekday) }) &&
    components.every((c, i) => componentHas(c, values[i]!))
  )
}

const calendarAlphabet = fc.stringOf(
  fc.constantFrom("*", "-", ":", ",", ".", "/", " ", "0", "1", "2", "5", "9", "Mon", "fri", "..", "\t", "Europe/Rome"),
  { maxLength: 30 }
)

describe("Calendar zone offsets", () => {
  it.effect("follow zones whose offset changes twice in a week (America/Boa_Vista, October 2000)", () =>
    Effect.gen(function* () {
      const hourly = yield* Calendar.parse("*-*-* *:00:00 America/Boa_Vista")
      for (let from = utcSeconds(2000, 10, 1); from < utcSeconds(2000, 10, 20); from += 1800) {
        const next = Calendar.nextOccurrence(hourly, from)
        assert.isTrue(Option.isSome(next))
        const at = Option.getOrThrow(next)
        // at most an hour away, or two when `from` sits in the first pass of the fold (23:00 fires once)
        assert.isTrue(at >= from && at - from <= 7200, `${from} → ${at}`)
        assert.isTrue(wallClockMatches(hourly, at), `${from} → ${at}`)
      }
    })
  )
})

describe("Calendar properties", () => {
  it.live.prop("parse(format(c)) gives c back", [utcCalendar], ([calendar]) =>
    Effect.gen(function* () {
      const wire = Calendar.format(calendar)
      const again = yield* Calendar.parse(wire)
      assert.isTrue(Calendar.Equivalence(again, calendar), wire)
      assert.strictEqual(Calendar.format(again), wire)
    })
  )

  it.live.prop(
    "parse never throws: any string is a Calendar whose wire form re-parses, or a CalendarError",
    [fc.oneof(fc.string(), fc.fullUnicodeString(), calendarAlphabet)],
    ([input]) =>
      Effect.gen(function* () {
        const result = yield* Effect.either(Calendar.parse(input))
        if (Either.isLeft(result)) {
          assert.instanceOf(result.left, CalendarError)
          return
        }
        const again = yield* Calendar.parse(Calendar.format(result.right))
        assert.strictEqual(Calendar.format(again), Calendar.format(result.right))
        Calendar.toHumanReadable(result.right, true)
        Calendar.nextOccurrence(result.right, 1_700_000_000)
      }),
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "nextOccurrence is ≥ from, matches the calendar's wall clock and is a fixed point",
    [zonedCalendar, fc.integer({ min: 0, max: 4_102_444_800 })],
    ([calendar, from]) => {
      const next = Calendar.nextOccurrence(calendar, from)
      if (Option.isNone(next)) return
      assert.isAtLeast(next.value, from)
      assert.isTrue(wallClockMatches(calendar, next.value), `${Calendar.format(calendar)} at ${next.value}`)
      assert.isTrue(Calendar.matches(calendar, next.value))
      assert.deepStrictEqual(Calendar.nextOccurrence(calendar, next.value), next)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "in UTC no second between from and nextOccurrence matches (checked over short spans)",
    [utcCalendar, fc.integer({ min: 0, max: 4_102_444_800 })],
    ([calendar, from]) => {
      const next = Calendar.nextOccurrence(calendar, from)
      const end = Option.getOrElse(next, () => from + 5_000)
      for (let t = from; t < Math.min(end, from + 5_000); t++) {
        if (Calendar.matches(calendar, t)) assert.fail(`${Calendar.format(calendar)} matches ${t} before ${end}`)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})
