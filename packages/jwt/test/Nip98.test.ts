import { assert, describe, it } from "@effect/vitest"
import * as JwtError from "@portal/jwt/JwtError"
import * as Nip98 from "@portal/jwt/Nip98"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import * as nip98 from "nostr-tools/nip98"
import { finalizeEvent } from "nostr-tools/pure"

const URL_ = "https://portal.example.com/auth/nip98"
const NOW = 1_700_000_000
const sha256Hex = (data: string) => createHash("sha256").update(data).digest("hex")
const header = (event: unknown) => `Nostr ${Buffer.from(JSON.stringify(event)).toString("base64")}`
const bytes = (text: string) => new TextEncoder().encode(text)

/** A fresh verifier (its own seen-ids set) allowing `allowed`. */
const verifierLayer = (allowed: ReadonlyArray<Keys.KeyPair>, seen = SeenIds.layerMemory) =>
  Nip98.layer({ allowedKeys: allowed.map((k) => k.publicKey) }).pipe(
    Layer.provide(Layer.merge(Event.layerVerifierPure, seen))
  )

const verify = (request: Nip98.Request) => Effect.flatMap(Nip98.Nip98, (v) => v.verify(request))

/** A NIP-98 event built by hand (any kind, tags, time), signed by `keys`. */
const handBuilt = (
  keys: Keys.KeyPair,
  fields: {
    readonly created_at?: number
    readonly kind?: number
    readonly tags?: ReadonlyArray<ReadonlyArray<string>>
  } = {}
) =>
  Event.signWith(keys, {
    kind: fields.kind ?? Nip98.KIND,
    content: "",
    created_at: fields.created_at ?? NOW,
    tags: fields.tags ?? [
      ["u", URL_],
      ["method", "GET"]
    ]
  })

const get = (authorization: string | undefined): Nip98.Request => ({ authorization, method: "GET", url: URL_ })

/** Runs `body` on a TestClock at NOW with a verifier allowing alice; returns alice and bob. */
const atNow = <A, E>(
  body: (keys: { readonly alice: Keys.KeyPair; readonly bob: Keys.KeyPair }) => Effect.Effect<A, E, Nip98.Nip98>
) =>
  Effect.gen(function* () {
    const alice = yield* Keys.generate
    const bob = yield* Keys.generate
    yield* TestClock.setTime(NOW * 1000)
    return yield* body({ alice, bob }).pipe(Effect.provide(verifierLayer([alice])))
  })

const rejection = (request: Nip98.Request) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(verify(request))
    if (error._tag !== "Nip98Rejected") return assert.fail(`expected Nip98Rejected, got ${error._tag}`)
    return error
  })

describe("Nip98 with nostr-tools as the client", () => {
  it.live("accepts a header from nip98.getToken (real clock)", () =>
    Effect.gen(function* () {
      const alice = yield* Keys.generate
      const token = yield* Effect.promise(() =>
        nip98.getToken(URL_, "GET", (e) => finalizeEvent(e, Redacted.value(alice.secretKey)), true)
      )
      const event = yield* verify(get(token)).pipe(Effect.provide(verifierLayer([alice])))
      assert.strictEqual(event.pubkey, alice.publicKey)
      assert.strictEqual(event.kind, 27235)
    })
  )

  it.live("works with the wasm event verifier the daemon uses", () =>
    Effect.gen(function* () {
      const alice = yield* Keys.generate
      const token = yield* Effect.promise(() =>
        nip98.getToken(URL_, "GET", (e) => finalizeEvent(e, Redacted.value(alice.secretKey)), true)
      )
      const wasmLayer = Nip98.layer({ allowedKeys: [alice.publicKey] }).pipe(
        Layer.provide(Layer.merge(Event.layerVerifier, SeenIds.layerMemory))
      )
      const event = yield* verify(get(token)).pipe(Effect.provide(wasmLayer))
      assert.strictEqual(event.pubkey, alice.publicKey)
      const forged = yield* Effect.flip(verify(get(header({ ...event, sig: "0".repeat(128) })))).pipe(
        Effect.provide(wasmLayer)
      )
      assert.strictEqual(forged._tag === "Nip98Rejected" ? forged.reason : forged._tag, "Signature")
    })
  )

  it.live("payload: the hash covers the raw bytes, so nostr-tools' JSON.stringify(payload) must be the body", () =>
    Effect.gen(function* () {
      const alice = yield* Keys.generate
      const sign = (e: Parameters<typeof finalizeEvent>[0]) => finalizeEvent(e, Redacted.value(alice.secretKey))
      const payload = { amount: 21, memo: "x" }
      const token = yield* Effect.promise(() => nip98.getToken(URL_, "POST", sign, true, payload))
      const post = (body: string): Nip98.Request => ({
        authorization: token,
        method: "POST",
        url: URL_,
        body: bytes(body)
      })
      yield* Effect.gen(function* () {
        // the client sent exactly JSON.stringify(payload): the hashes agree
        const event = yield* verify(post(JSON.stringify(payload)))
        assert.strictEqual(event.pubkey, alice.publicKey)
      }).pipe(Effect.provide(verifierLayer([alice])))
      yield* Effect.gen(function* () {
        // same JSON value, other bytes: nostr-tools' validator would accept it, we do not
        const error = yield* rejection(post(JSON.stringify(payload, null, 2)))
        assert.strictEqual(error.reason, "Payload")
      }).pipe(Effect.provide(verifierLayer([alice])))

      // the same value, keys reordered: a different body, a different hash
      const error = yield* rejection(post(JSON.stringify({ memo: "x", amount: 21 }))).pipe(
        Effect.provide(verifierLayer([alice]))
      )
      assert.strictEqual(error.reason, "Payload")
      assert.isTrue(error.message.startsWith("NIP-98: payload tag does not match"))
    })
  )
})

describe("Nip98 rejections (hand-built events)", () => {
  it.effect("stale: created_at more than 60 s ago", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const error = yield* rejection(get(header(yield* handBuilt(alice, { created_at: NOW - 61 }))))
        assert.strictEqual(error.reason, "Stale")
        // exactly 60 s is still inside the window
        yield* verify(get(header(yield* handBuilt(alice, { created_at: NOW - 60 }))))
      })
    )
  )

  it.effect("stale: a header accepted now is refused once the clock moves past the window", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const event = yield* handBuilt(alice)
        yield* TestClock.adjust("61 seconds")
        const error = yield* rejection(get(header(event)))
        assert.strictEqual(error.reason, "Stale")
        assert.strictEqual(error.message, `NIP-98: created_at ${NOW} is more than 60 s before now (${NOW + 61})`)
      })
    )
  )

  it.effect("future: created_at more than 60 s ahead", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const error = yield* rejection(get(header(yield* handBuilt(alice, { created_at: NOW + 61 }))))
        assert.strictEqual(error.reason, "Future")
        yield* verify(get(header(yield* handBuilt(alice, { created_at: NOW + 60 }))))
      })
    )
  )

  it.effect("wrong URL: path, query, trailing slash and scheme differ; host case does not matter", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const signedFor = (u: string) =>
          handBuilt(alice, {
            tags: [
              ["u", u],
              ["method", "GET"]
            ]
          })
        for (const u of [
          "https://portal.example.com/auth/other",
          "https://portal.example.com/auth/nip98/",
          "https://portal.example.com/auth/nip98?x=1",
          "http://portal.example.com/auth/nip98",
          "https://evil.example.com/auth/nip98",
          "https://portal.example.com/AUTH/nip98"
        ]) {
          const error = yield* rejection(get(header(yield* signedFor(u))))
          assert.strictEqual(error.reason, "Url", u)
        }
        const missing = yield* rejection(get(header(yield* handBuilt(alice, { tags: [["method", "GET"]] }))))
        assert.strictEqual(missing.reason, "Url")
        // the query is part of the URL; scheme and host compare case-insensitively
        yield* verify({ ...get(header(yield* signedFor(`${URL_}?a=1`))), url: `${URL_}?a=1` })
        yield* verify(get(header(yield* signedFor("HTTPS://Portal.Example.COM/auth/nip98"))))
      })
    )
  )

  it.effect("wrong method", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        for (const method of ["POST", "get"]) {
          const event = yield* handBuilt(alice, {
            tags: [
              ["u", URL_],
              ["method", method]
            ]
          })
          const error = yield* rejection(get(header(event)))
          assert.strictEqual(error.reason, "Method", method)
        }
        const missing = yield* rejection(get(header(yield* handBuilt(alice, { tags: [["u", URL_]] }))))
        assert.strictEqual(missing.reason, "Method")
      })
    )
  )

  it.effect("wrong payload; the empty-body hash is accepted on a body-less request", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const withPayload = (payload: string) =>
          handBuilt(alice, {
            tags: [
              ["u", URL_],
              ["method", "GET"],
              ["payload", payload]
            ]
          })
        const error = yield* rejection(get(header(yield* withPayload(sha256Hex("something")))))
        assert.strictEqual(error.reason, "Payload")
        assert.strictEqual(Nip98.EMPTY_BODY_SHA256, sha256Hex(""))
        yield* verify(get(header(yield* withPayload(Nip98.EMPTY_BODY_SHA256))))
        // a body without a payload tag
        const noTag = yield* rejection({ ...get(header(yield* handBuilt(alice))), body: bytes("{}") })
        assert.strictEqual(noTag.reason, "Payload")
      })
    )
  )

  it.effect("forged signature and tampered id", () =>
    atNow(({ alice, bob }) =>
      Effect.gen(function* () {
        const event = yield* handBuilt(alice)
        const other = yield* handBuilt(bob)
        const forged = yield* rejection(get(header({ ...event, sig: other.sig })))
        assert.strictEqual(forged.reason, "Signature")
        // bob's key on alice's signed event: the id no longer matches
        const swapped = yield* rejection(get(header({ ...event, pubkey: bob.publicKey })))
        assert.strictEqual(swapped.reason, "Id")
        const tampered = yield* rejection(get(header({ ...event, content: "x" })))
        assert.strictEqual(tampered.reason, "Id")
      })
    )
  )

  it.effect("wrong kind", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const error = yield* rejection(get(header(yield* handBuilt(alice, { kind: 1 }))))
        assert.strictEqual(error.reason, "Kind")
        assert.strictEqual(error.message, "NIP-98: expected kind 27235, got 1")
      })
    )
  )

  it.effect("replayed: an accepted event id is refused the second time", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const request = get(header(yield* handBuilt(alice)))
        yield* verify(request)
        yield* TestClock.adjust("30 seconds")
        const error = yield* rejection(request)
        assert.strictEqual(error.reason, "Replayed")
      })
    )
  )

  it.effect("replay: concurrent uses of one header, exactly one wins", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const request = get(header(yield* handBuilt(alice)))
        const results = yield* Effect.all(
          Array.from({ length: 8 }, () => Effect.either(verify(request))),
          {
            concurrency: "unbounded"
          }
        )
        assert.strictEqual(results.filter((r) => r._tag === "Right").length, 1)
      })
    )
  )

  it.effect("key not allowed: 403 message with the hex key", () =>
    atNow(({ bob }) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(verify(get(header(yield* handBuilt(bob)))))
        assert.strictEqual(error._tag, "Nip98KeyNotAllowed")
        assert.strictEqual(error.message, `NIP-98: key ${bob.publicKey} is not allowed`)
      })
    )
  )

  it.effect("disabled when no key is allowed, before the header is read", () =>
    Effect.gen(function* () {
      const verifier = yield* Nip98.Nip98
      assert.isFalse(verifier.enabled)
      const error = yield* Effect.flip(verifier.verify(get(undefined)))
      assert.strictEqual(error._tag, "Nip98Disabled")
      assert.strictEqual(error.message, "NIP-98 login is disabled: set auth.nip98_pubkeys")
    }).pipe(Effect.provide(verifierLayer([])))
  )

  it.effect("a failing replay store is SeenIdsUnavailable, not a rejection", () =>
    Effect.gen(function* () {
      const alice = yield* Keys.generate
      const failing = Layer.succeed(
        SeenIds.SeenIds,
        SeenIds.SeenIds.of({
          markSeen: () => Effect.fail(new JwtError.SeenIdsUnavailable({ cause: new Error("database is down") }))
        })
      )
      yield* TestClock.setTime(NOW * 1000)
      const error = yield* Effect.flip(verify(get(header(yield* handBuilt(alice))))).pipe(
        Effect.provide(verifierLayer([alice], failing))
      )
      assert.strictEqual(error._tag, "SeenIdsUnavailable")
    })
  )
})

describe("Nip98 header parsing", () => {
  it.effect("missing header, other scheme, not base64, not a JSON event", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const event = yield* handBuilt(alice)
        const json = JSON.stringify(event)
        const cases: ReadonlyArray<readonly [string | undefined, JwtError.Nip98Rejected["reason"]]> = [
          [undefined, "MissingHeader"],
          ["", "MissingHeader"],
          [`Bearer ${Buffer.from(json).toString("base64")}`, "Scheme"],
          ["Nostr", "Scheme"],
          ["Nostr !!!", "Malformed"],
          [`Nostr ${Buffer.from("not json").toString("base64")}`, "Malformed"],
          [`Nostr ${Buffer.from("[1,2]").toString("base64")}`, "Malformed"],
          [`Nostr ${Buffer.from(JSON.stringify({ ...event, sig: undefined })).toString("base64")}`, "Malformed"]
        ]
        for (const [authorization, reason] of cases) {
          const error = yield* rejection(get(authorization))
          assert.strictEqual(error.reason, reason, String(authorization))
        }
      })
    )
  )

  it.effect("scheme in any case; unpadded standard base64 and base64url accepted", () =>
    atNow(({ alice }) =>
      Effect.gen(function* () {
        const encodings = [
          (json: string) => `nostr ${Buffer.from(json).toString("base64")}`,
          (json: string) => `NOSTR ${Buffer.from(json).toString("base64").replace(/=+$/, "")}`,
          (json: string) => `Nostr ${Buffer.from(json).toString("base64url")}`
        ]
        for (const [i, encode] of encodings.entries()) {
          // a fresh event each time (ids are single-use), grown until its base64 form needs padding
          let filler = `${i}`
          let event = yield* handBuilt(alice, {
            tags: [
              ["u", URL_],
              ["method", "GET"],
              ["t", filler]
            ]
          })
          while (JSON.stringify(event).length % 3 === 0) {
            filler += "x"
            event = yield* handBuilt(alice, {
              tags: [
                ["u", URL_],
                ["method", "GET"],
                ["t", filler]
              ]
            })
          }
          assert.isTrue(Buffer.from(JSON.stringify(event)).toString("base64").endsWith("="))
          const value = yield* verify(get(encode(JSON.stringify(event))))
          assert.strictEqual(value.id, event.id)
        }
      })
    )
  )
})

describe("Nip98.requestUrl", () => {
  it("public_url wins, then trusted X-Forwarded-*, then http://Host", () => {
    const path = "/auth/nip98?x=1"
    assert.strictEqual(
      Nip98.requestUrl({ publicUrl: "https://portal.example.com/", trustProxy: true, host: "h", pathAndQuery: path }),
      "https://portal.example.com/auth/nip98?x=1"
    )
    const proxied = {
      publicUrl: undefined,
      host: "10.0.0.2:3000",
      forwardedProto: "https, http",
      forwardedHost: "portal.example.com",
      pathAndQuery: path
    }
    assert.strictEqual(Nip98.requestUrl({ ...proxied, trustProxy: true }), "https://portal.example.com/auth/nip98?x=1")
    assert.strictEqual(Nip98.requestUrl({ ...proxied, trustProxy: false }), "http://10.0.0.2:3000/auth/nip98?x=1")
  })

  it("sameUrl: scheme and host case-insensitive, the rest exact", () => {
    assert.isTrue(Nip98.sameUrl("HTTP://A.example:80/p?q=1", "http://a.example:80/p?q=1"))
    assert.isFalse(Nip98.sameUrl("http://a.example/p?q=1", "http://a.example/p?Q=1"))
    assert.isFalse(Nip98.sameUrl("http://a.example/p%2F", "http://a.example/p/"))
  })
})
