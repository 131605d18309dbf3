/**
 * A scripted `Cashu` for other packages' tests (deep import `@portal/cashu/TestCashu`; not in the index), when a
 * real mint is beside the point. For tests that exercise Cashu for real, use `@portal/testing`'s `CashuMint` with
 * `Cashu.layer`.
 *
 * Every method answers what the script says; an unscripted method dies with a message naming it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cashu from "./Cashu.js"

/**
 * What each method answers.
 * @category models
 */
export type Script = Partial<Cashu.Service>

const unscripted = (method: string) => Effect.dieMessage(`TestCashu: ${method} was not scripted`)

/**
 * The scripted service.
 * @category constructors
 */
export const make = (script: Script = {}): Cashu.Service =>
  Cashu.Cashu.of({
    mint: script.mint ?? (() => unscripted("mint")),
    burn: script.burn ?? (() => unscripted("burn")),
    receive: script.receive ?? (() => unscripted("receive")),
    send: script.send ?? (() => unscripted("send")),
    checkStates: script.checkStates ?? (() => unscripted("checkStates")),
    balance: script.balance ?? unscripted("balance")
  })

/**
 * The scripted service as a layer.
 * @category layers
 */
export const layer = (script: Script = {}): Layer.Layer<Cashu.Cashu> => Layer.succeed(Cashu.Cashu, make(script))
