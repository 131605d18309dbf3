/**
 * The loopback relay of the auth-flow benchmark, in its own process (`bench/server.ts` starts it): the real
 * `@nostr-relay/core` relay of `@portal/testing`. Prints `RELAY <url>` once listening and runs until SIGTERM.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"

Effect.gen(function* () {
  const relay = yield* TestRelay.make
  yield* Console.log(`RELAY ${relay.url}`)
  return yield* Effect.never
}).pipe(Effect.scoped, NodeRuntime.runMain)
