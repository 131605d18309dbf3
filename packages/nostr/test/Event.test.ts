import { assert, describe, it, layer } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { finalizeEvent } from "nostr-tools/pure"

const signed = Effect.gen(function* () {
  const keys = yield* Keys.generate
  const template = yield* Event.template({ kind: 1, content: "hello", tags: [["p", keys.publicKey]] })
  return { keys, event: yield* Event.signWith(keys, template) }
})

describe("Event", () => {
  it.effect("template takes created_at from the Clock", () =>
    Effect.gen(function* () {
      const t = yield* Event.template({ kind: 27000 })
      assert.deepStrictEqual(t, { kind: 27000, tags: [], content: "", created_at: 0 })
    })
  )

  it.effect("the id is the sha256 of the NIP-01 serialisation", () =>
    Effect.gen(function* () {
      const { event } = yield* signed
      assert.strictEqual(
        Event.serialize(event),
        JSON.stringify([0, event.pubkey, event.created_at, 1, event.tags, "hello"])
      )
      assert.strictEqual(Event.computeId(event), event.id)
      assert.isTrue(Event.verifyPure(event))
    })
  )

  it.effect("an event signed by nostr-tools verifies, fields intact", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const foreign = finalizeEvent(
        { kind: 1, tags: [["t", "x"]], content: "from nostr-tools", created_at: 1700000000 },
        Redacted.value(keys.secretKey)
      )
      const decoded = yield* Event.pureVerifier.decode(JSON.parse(JSON.stringify(foreign)))
      assert.strictEqual(decoded.pubkey, keys.publicKey)
      assert.strictEqual(decoded.content, "from nostr-tools")
    })
  )
})

for (const [name, verifierLayer, backend] of [
  ["wasm", Event.layerVerifier, "wasm"],
  ["pure", Event.layerVerifierPure, "pure"]
] as const) {
  layer(verifierLayer)(`Verifier (${name})`, (it) => {
    it.effect("uses the expected backend", () =>
      Effect.gen(function* () {
        const verifier = yield* Event.Verifier
        assert.strictEqual(verifier.backend, backend)
      })
    )

    it.effect("accepts a correctly signed event after a JSON round trip", () =>
      Effect.gen(function* () {
        const verifier = yield* Event.Verifier
        const { event } = yield* signed
        const decoded = yield* verifier.decode(JSON.parse(JSON.stringify(event)))
        assert.deepStrictEqual(decoded, event)
      })
    )

    it.effect("rejects changed content (id no longer matches)", () =>
      Effect.gen(function* () {
        const verifier = yield* Event.Verifier
        const { event } = yield* signed
        const error = yield* Effect.flip(verifier.decode({ ...event, content: "hellO" }))
        assert.strictEqual(error.reason, "Id")
      })
    )

    it.effect("rejects a forged signature: right id, signature of another key", () =>
      Effect.gen(function* () {
        const verifier = yield* Event.Verifier
        const { event } = yield* signed
        const other = yield* signed
        const forged = { ...event, sig: other.event.sig }
        const error = yield* Effect.flip(verifier.decode(forged))
        assert.strictEqual(error.reason, "Signature")
        assert.isFalse(verifier.isValid(forged))
        // claiming someone else's pubkey with our own valid signature: the id changes, so it must be recomputed
        const claimed = { ...other.event, pubkey: event.pubkey }
        const recomputed = { ...claimed, id: Event.computeId(claimed) }
        assert.strictEqual((yield* Effect.flip(verifier.decode(recomputed))).reason, "Signature")
      })
    )

    it.effect("rejects malformed events before any crypto", () =>
      Effect.gen(function* () {
        const verifier = yield* Event.Verifier
        const { event } = yield* signed
        for (const bad of [
          null,
          "x",
          { ...event, id: event.id.toUpperCase() },
          { ...event, sig: event.sig.slice(2) },
          { ...event, kind: 70000 },
          { ...event, created_at: -1 },
          { ...event, tags: [[1]] }
        ]) {
          const error = yield* Effect.flip(verifier.decode(bad))
          assert.strictEqual(error.reason, "Malformed")
        }
      })
    )
  })
}

layer(Event.layerVerifier)("signing once the wasm module is loaded", (it) => {
  it.effect("gives BIP-340 signatures the pure-JS verifier accepts, fresh each time, over the expected id", () =>
    Effect.gen(function* () {
      yield* Event.Verifier
      const keys = yield* Keys.generate
      const template = yield* Event.template({
        kind: 27000,
        content: 'ünïcode \u2028 "quoted"',
        tags: [["p", keys.publicKey]]
      })
      const a = yield* Event.signWith(keys, template)
      const b = yield* Event.signWith(keys, template)
      assert.strictEqual(a.id, Event.computeId({ ...template, pubkey: keys.publicKey }))
      assert.strictEqual(a.id, b.id)
      // fresh auxiliary randomness: two signatures of the same event differ, both valid
      assert.notStrictEqual(a.sig, b.sig)
      assert.isTrue(Event.verifyPure(a))
      assert.isTrue(Event.verifyPure(b))
      assert.isFalse(Event.verifyPure({ ...a, content: "changed" }))
    })
  )
})
