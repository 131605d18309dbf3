import { assert, describe, it } from "@effect/vitest"
import * as Cashu from "@portal/cashu/Cashu"
import { TokenAlreadySpent } from "@portal/cashu/CashuError"
import * as TestCashu from "@portal/cashu/TestCashu"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

describe("TestCashu", () => {
  it.effect("answers what the script says and dies naming an unscripted method", () =>
    Effect.gen(function* () {
      const cashu = yield* Cashu.Cashu
      const spent = yield* Effect.flip(cashu.burn({ mintUrl: "http://mint", unit: "sat", token: "cashuB" }))
      assert.strictEqual(spent._tag, "TokenAlreadySpent")
      const exit = yield* Effect.exit(cashu.mint({ mintUrl: "http://mint", unit: "sat", amount: 1 }))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.include(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "", "TestCashu: mint was not scripted")
    }).pipe(Effect.provide(TestCashu.layer({ burn: ({ mintUrl }) => Effect.fail(new TokenAlreadySpent({ mintUrl })) })))
  )
})
