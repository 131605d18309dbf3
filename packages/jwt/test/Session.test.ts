import { assert, describe, it } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Session from "@portal/jwt/Session"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import { base64urlnopad } from "@scure/base"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as nip98 from "nostr-tools/nip98"
import { finalizeEvent } from "nostr-tools/pure"

const URL_ = "https://portal.example.com/auth/nip98"
const NOW = 1_700_000_000

const sessionsLayer = (options: Session.Options) =>
  Session.layer(options).pipe(Layer.provide(Layer.merge(Event.layerVerifierPure, SeenIds.layerMemory)))

const nip98Header = (keys: Keys.KeyPair, createdAt: number) =>
  Effect.map(
    Event.signWith(keys, {
      kind: 27235,
      content: "",
      created_at: createdAt,
      tags: [
        ["u", URL_],
        ["method", "GET"]
      ]
    }),
    (event) => `Nostr ${Buffer.from(JSON.stringify(event)).toString("base64")}`
  )

const login = (authorization: string) =>
  Effect.flatMap(Session.Sessions, (s) => s.login({ authorization, method: "GET", url: URL_ }))
const authenticate = (token: string) => Effect.flatMap(Session.Sessions, (s) => s.authenticate(token))

/** A daemon key and an allowed user, with the Sessions service at NOW on the TestClock. */
const withSessions = <A, E>(
  body: (keys: {
    readonly daemon: Keys.KeyPair
    readonly alice: Keys.KeyPair
  }) => Effect.Effect<A, E, Session.Sessions>,
  options: { readonly ttlSeconds?: number } = {}
) =>
  Effect.gen(function* () {
    const daemon = yield* Keys.generate
    const alice = yield* Keys.generate
    yield* TestClock.setTime(NOW * 1000)
    return yield* body({ daemon, alice }).pipe(
      Effect.provide(sessionsLayer({ keys: daemon, allowedKeys: [alice.publicKey], ...options }))
    )
  })

const authFailure = (token: string) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(authenticate(token))
    return error._tag === "InvalidJwt" ? `${error._tag}:${error.reason}` : error._tag
  })

describe("Session", () => {
  it.live("nip98.getToken → login → a bearer that authenticates (real clock)", () =>
    Effect.gen(function* () {
      const daemon = yield* Keys.generate
      const alice = yield* Keys.generate
      const header = yield* Effect.promise(() =>
        nip98.getToken(URL_, "GET", (e) => finalizeEvent(e, Redacted.value(alice.secretKey)), true)
      )
      yield* Effect.gen(function* () {
        const session = yield* login(header)
        assert.strictEqual(session.pubkey, alice.publicKey)
        assert.strictEqual(yield* authenticate(session.token), alice.publicKey)
        // the same header cannot be exchanged twice
        const replay = yield* Effect.flip(login(header))
        assert.strictEqual(replay._tag, "Nip98Rejected")
      }).pipe(Effect.provide(sessionsLayer({ keys: daemon, allowedKeys: [alice.publicKey] })))
    })
  )

  it.effect("the token: Portal format, claims exp,nbf,iat,target_key,aud; default lifetime 300 s", () =>
    withSessions(({ daemon, alice }) =>
      Effect.gen(function* () {
        const session = yield* login(yield* nip98Header(alice, NOW))
        assert.strictEqual(session.expiresAt, NOW + 300)
        const [header, claims] = session.token.split(".")
        assert.strictEqual(header, "eyJhbGciOiJFUzI1NksifQ")
        assert.strictEqual(
          new TextDecoder().decode(base64urlnopad.decode(claims!)),
          `{"exp":${NOW + 300},"nbf":${NOW},"iat":${NOW},"target_key":"${alice.publicKey}","aud":"portal-rest-session"}`
        )
        const decoded = yield* Jwt.decode(session.token, daemon.publicKey)
        assert.deepStrictEqual(decoded.audience, ["portal-rest-session"])
      })
    )
  )

  it.effect('expired session: JwtExpired ("Session expired") after ttl + 60 s leeway', () =>
    withSessions(
      ({ alice }) =>
        Effect.gen(function* () {
          const session = yield* login(yield* nip98Header(alice, NOW))
          yield* TestClock.adjust("180 seconds") // exp + 60
          assert.strictEqual(yield* authenticate(session.token), alice.publicKey)
          yield* TestClock.adjust("1 second")
          const error = yield* Effect.flip(authenticate(session.token))
          assert.strictEqual(error._tag, "JwtExpired")
          assert.strictEqual(error.message, `token expired at ${NOW + 120}`)
        }),
      { ttlSeconds: 120 }
    )
  )

  it.effect("invalid tokens: a /jwt/issue token (no aud), another signer, garbage", () =>
    withSessions(({ daemon, alice }) =>
      Effect.gen(function* () {
        const plain = yield* Jwt.issue({
          secretKey: daemon.secretKey,
          targetKey: alice.publicKey,
          now: NOW,
          durationSeconds: 3600
        })
        assert.strictEqual(yield* authFailure(plain), "InvalidJwt:Audience")
        const stranger = yield* Keys.generate
        const foreign = yield* Session.issue({
          secretKey: stranger.secretKey,
          targetKey: alice.publicKey,
          now: NOW,
          ttlSeconds: 300
        })
        assert.strictEqual(yield* authFailure(foreign.token), "InvalidJwt:Signature")
        assert.strictEqual(yield* authFailure("not-a-token"), "InvalidJwt:Malformed")
      })
    )
  )

  it.effect("a session for a key no longer allowed is refused", () =>
    withSessions(({ daemon, alice }) =>
      Effect.gen(function* () {
        // signed by the daemon key for bob, who is not (or no longer) in the allow-list
        const bob = yield* Keys.generate
        const session = yield* Session.issue({
          secretKey: daemon.secretKey,
          targetKey: bob.publicKey,
          now: NOW,
          ttlSeconds: 300
        })
        assert.strictEqual(yield* authFailure(session.token), "InvalidJwt:KeyNotAllowed")
        const ok = yield* Session.issue({
          secretKey: daemon.secretKey,
          targetKey: alice.publicKey,
          now: NOW,
          ttlSeconds: 300
        })
        assert.strictEqual(yield* authenticate(ok.token), alice.publicKey)
      })
    )
  )

  it.effect("a key not in the allow-list cannot log in (403)", () =>
    withSessions(() =>
      Effect.gen(function* () {
        const bob = yield* Keys.generate
        const error = yield* Effect.flip(login(yield* nip98Header(bob, NOW)))
        assert.strictEqual(error._tag, "Nip98KeyNotAllowed")
      })
    )
  )

  it.effect("a stale NIP-98 header does not log in", () =>
    withSessions(({ alice }) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(login(yield* nip98Header(alice, NOW - 61)))
        assert.strictEqual(error._tag === "Nip98Rejected" ? error.reason : error._tag, "Stale")
      })
    )
  )

  it.effect("the lifetime must be 60..86400 whole seconds", () =>
    Effect.gen(function* () {
      const daemon = yield* Keys.generate
      for (const ttlSeconds of [59, 86401, 90.5]) {
        const exit = yield* Effect.exit(
          Effect.provide(Session.Sessions, sessionsLayer({ keys: daemon, allowedKeys: [], ttlSeconds }))
        )
        assert.isTrue(Exit.isFailure(exit), String(ttlSeconds))
      }
      const ok = yield* Effect.provide(
        Session.Sessions,
        sessionsLayer({ keys: daemon, allowedKeys: [], ttlSeconds: 86400 })
      )
      assert.isFalse(ok.enabled)
    })
  )
})
