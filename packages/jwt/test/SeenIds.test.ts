import { assert, describe, it } from "@effect/vitest"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

describe("SeenIds.layerMemory", () => {
  it.effect("true the first time, false while remembered, true again after the ttl", () =>
    Effect.gen(function* () {
      const seen = yield* SeenIds.SeenIds
      assert.isTrue(yield* seen.markSeen("a", "120 seconds"))
      assert.isFalse(yield* seen.markSeen("a", "120 seconds"))
      assert.isTrue(yield* seen.markSeen("b", "120 seconds"))
      yield* TestClock.adjust("119 seconds")
      assert.isFalse(yield* seen.markSeen("a", "120 seconds"))
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* seen.markSeen("a", "120 seconds"))
    }).pipe(Effect.provide(SeenIds.layerMemory))
  )
})
