import { assert, describe, it } from "@effect/vitest"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Nip19 from "@portal/nostr/Nip19"
import { InvalidBech32 } from "@portal/nostr/NostrError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

describe("Nip19", () => {
  it.effect("round trips npub, nsec, note, nprofile and nevent", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const event = yield* Event.signWith(keys, yield* Event.template({ kind: 1, content: "x" }))
      const npub = Nip19.npubEncode(keys.publicKey)
      assert.deepStrictEqual(yield* Nip19.decode(`nostr:${npub}`), Nip19.Decoded.Npub({ pubkey: keys.publicKey }))
      const nsec = yield* Nip19.decode(Redacted.value(Nip19.nsecEncode(keys.secretKey)))
      assert.isTrue(Nip19.Decoded.$is("Nsec")(nsec))
      if (Nip19.Decoded.$is("Nsec")(nsec)) {
        assert.deepStrictEqual(Redacted.value(nsec.secretKey), Redacted.value(keys.secretKey))
      }
      assert.deepStrictEqual(yield* Nip19.decode(Nip19.noteEncode(event.id)), Nip19.Decoded.Note({ id: event.id }))
      const relays = ["wss://relay.example.com"]
      assert.deepStrictEqual(
        yield* Nip19.decode(Nip19.nprofileEncode(keys.publicKey, relays)),
        Nip19.Decoded.Nprofile({ pubkey: keys.publicKey, relays })
      )
      assert.deepStrictEqual(
        yield* Nip19.decode(Nip19.neventEncode(event.id, { relays, author: keys.publicKey, kind: 1 })),
        Nip19.Decoded.Nevent({ id: event.id, relays, author: keys.publicKey, kind: 1 })
      )
    })
  )

  it.effect("refuses a bad checksum, and withholds an nsec in the error", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.generate
      const npub = Nip19.npubEncode(keys.publicKey)
      const broken = npub.slice(0, -1) + (npub.endsWith("q") ? "p" : "q")
      assert.instanceOf(yield* Effect.flip(Nip19.decode(broken)), InvalidBech32)
      const nsec = Redacted.value(Nip19.nsecEncode(keys.secretKey))
      const brokenNsec = nsec.slice(0, -1) + (nsec.endsWith("q") ? "p" : "q")
      const error = yield* Effect.flip(Nip19.decode(brokenNsec))
      assert.notInclude(error.message, brokenNsec)
    })
  )
})
