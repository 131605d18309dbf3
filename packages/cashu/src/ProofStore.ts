/**
 * Where ecash that Portal keeps lives: the proofs a burn received (differences: the reference throws them away).
 * Backends: `layerMemory` here; the daemon stores them in its database.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ProofStoreFailed } from "./CashuError.js"
import type { Proof } from "./Token.js"

/**
 * Proofs of one mint and unit, kept together as they arrived.
 * @category models
 */
export interface Entry {
  readonly id: string
  readonly mintUrl: string
  readonly unit: string
  readonly proofs: ReadonlyArray<Proof>
  /** Unix milliseconds. */
  readonly receivedAt: number
}

/** @category models */
export interface Service {
  /** Keeps proofs; `entry.id` is unique (a second add with the same id replaces the first). */
  readonly add: (entry: Entry) => Effect.Effect<void, ProofStoreFailed>
  /** Everything kept, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Entry>, ProofStoreFailed>
}

/** @category tags */
export class ProofStore extends Context.Tag("@portal/cashu/ProofStore")<ProofStore, Service>() {}

/**
 * In memory, for tests and the user side.
 * @category layers
 */
export const layerMemory: Layer.Layer<ProofStore> = Layer.sync(ProofStore, () => {
  const entries = new Map<string, Entry>()
  return ProofStore.of({
    add: (entry) => Effect.sync(() => void entries.set(entry.id, entry)),
    list: Effect.sync(() => [...entries.values()])
  })
})
