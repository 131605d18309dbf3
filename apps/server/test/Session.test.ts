import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as Session from "@portal/jwt/Session"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Keys from "@portal/nostr/Keys"
import * as SessionLayers from "@portal/server/Http/Session"
import * as Store from "@portal/store/Store"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as nip98 from "nostr-tools/nip98"
import { finalizeEvent } from "nostr-tools/pure"
import { authed, jsonRequest, layer as serverLayer, publicKey, secretKey, sendJson } from "./HttpServerTest.js"

const PUBLIC_URL = "https://portal.example.com"
const LOGIN_URL = `${PUBLIC_URL}/auth/nip98`

const alice = Keys.fromSecret("a".repeat(64)).pipe(Effect.orDie)
const bob = Keys.fromSecret("b".repeat(64)).pipe(Effect.orDie)

/** The header nostr-tools, the real client, builds. */
const nip98Header = (keys: Keys.KeyPair, url: string = LOGIN_URL, method = "GET") =>
  Effect.promise(() => nip98.getToken(url, method, (e) => finalizeEvent(e, Redacted.value(keys.secretKey)), true))

const login = (authorization: string | undefined, headers: Record<string, string> = {}, path = "/auth/nip98") =>
  sendJson(
    HttpClientRequest.get(path).pipe(
      HttpClientRequest.setHeaders(authorization === undefined ? headers : { ...headers, authorization })
    )
  )

const info = (bearer: string) => sendJson(HttpClientRequest.get("/info").pipe(HttpClientRequest.bearerToken(bearer)))

const nowSeconds = () => Math.floor(Date.now() / 1000)

const serverFor = (keys: ReadonlyArray<Effect.Effect<Keys.KeyPair>>, publicUrl: Option.Option<string>) =>
  serverLayer(
    {},
    {},
    {
      nip98Pubkeys: Effect.runSync(Effect.all(keys)).map((k, i) => (i === 0 ? Keys.npub(k.publicKey) : k.publicKey)),
      sessionTtlSecs: 120,
      publicUrl
    }
  )

describe("GET /auth/nip98 and bearer sessions", () => {
  layer(serverFor([alice], Option.some(PUBLIC_URL)), { excludeTestServices: true })((it) => {
    it.effect("a nostr-tools NIP-98 header buys a session token that works as a bearer token on /info", () =>
      Effect.gen(function* () {
        const keys = yield* alice
        const before = nowSeconds()
        const r = yield* login(yield* nip98Header(keys))
        assert.strictEqual(r.status, 200, r.text)
        const { token, expires_at } = (r.json as { data: { token: string; expires_at: string } }).data
        assert.match(expires_at, /^[0-9]+$/)
        assert.isTrue(Number(expires_at) >= before + 120 && Number(expires_at) <= nowSeconds() + 120)
        const claims = yield* Jwt.decode(token, publicKey)
        assert.strictEqual(claims.targetKey, keys.publicKey)
        assert.deepStrictEqual(claims.audience, [Session.AUDIENCE])
        const authedInfo = yield* info(token)
        assert.strictEqual(authedInfo.status, 200, authedInfo.text)
        assert.strictEqual((authedInfo.json as { data: { public_key: string } }).data.public_key, publicKey)
        // the static token keeps working
        const staticInfo = yield* sendJson(HttpClientRequest.get("/info").pipe(authed))
        assert.strictEqual(staticInfo.status, 200)
      })
    )

    it.effect("a replayed header, a wrong URL or method, a missing header are 401 NIP-98", () =>
      Effect.gen(function* () {
        const keys = yield* alice
        // nostr-tools builds the same event (same id) for the same URL within one second: the query tells them apart
        const header = yield* nip98Header(keys, `${LOGIN_URL}?attempt=2`)
        assert.strictEqual((yield* login(header, {}, "/auth/nip98?attempt=2")).status, 200)
        const cases: ReadonlyArray<readonly [string | undefined, RegExp]> = [
          [header, /^NIP-98: /],
          [yield* nip98Header(keys, "https://other.example.com/auth/nip98?attempt=2"), /^NIP-98: /],
          [yield* nip98Header(keys, LOGIN_URL), /^NIP-98: /],
          [yield* nip98Header(keys, `${LOGIN_URL}?attempt=2`, "POST"), /^NIP-98: /],
          [undefined, /^NIP-98: /],
          [`Bearer ${header}`, /^NIP-98: /]
        ]
        for (const [authorization, message] of cases) {
          const r = yield* login(authorization, {}, "/auth/nip98?attempt=2")
          assert.strictEqual(r.status, 401, r.text)
          const { success, error } = r.json as { success: boolean; error: string }
          assert.isFalse(success)
          assert.match(error, message)
        }
      })
    )

    it.effect("a key not in auth.nip98_pubkeys is 403", () =>
      Effect.gen(function* () {
        const keys = yield* bob
        const r = yield* login(yield* nip98Header(keys))
        assert.strictEqual(r.status, 403)
        assert.deepStrictEqual(r.json, { success: false, error: `NIP-98: key ${keys.publicKey} is not allowed` })
      })
    )

    it.effect("an expired session is 401 Session expired; a /jwt/issue token or a forged one is Invalid token", () =>
      Effect.gen(function* () {
        const keys = yield* alice
        const daemon = yield* Effect.orDie(Keys.fromSecret(secretKey))
        const expired = yield* Effect.orDie(
          Session.issue({
            secretKey: daemon.secretKey,
            targetKey: keys.publicKey,
            now: nowSeconds() - 400,
            ttlSeconds: 300
          })
        )
        const r = yield* info(expired.token)
        assert.strictEqual(r.status, 401)
        assert.strictEqual(r.headers["www-authenticate"], "Bearer")
        assert.deepStrictEqual(r.json, { success: false, error: "Authentication failed: Session expired" })

        const issued = yield* sendJson(
          jsonRequest("POST", "/jwt/issue", { target_key: keys.publicKey, duration_hours: 1 }).pipe(authed)
        )
        const plain = (issued.json as { data: { token: string } }).data.token
        const forged = yield* Effect.orDie(
          Session.issue({ secretKey: keys.secretKey, targetKey: keys.publicKey, now: nowSeconds(), ttlSeconds: 300 })
        )
        for (const token of [plain, forged.token]) {
          const bad = yield* info(token)
          assert.strictEqual(bad.status, 401)
          assert.deepStrictEqual(bad.json, { success: false, error: "Authentication failed: Invalid token" })
        }
      })
    )
  })

  layer(serverFor([bob], Option.none()), { excludeTestServices: true })((it) => {
    it.effect("without server.public_url the signed URL is http://<Host>/auth/nip98", () =>
      Effect.gen(function* () {
        const keys = yield* bob
        const good = yield* login(yield* nip98Header(keys, "http://portal.internal:8080/auth/nip98"), {
          host: "portal.internal:8080"
        })
        assert.strictEqual(good.status, 200, good.text)
        const wrongHost = yield* login(yield* nip98Header(keys, "http://portal.internal:8080/auth/nip98"), {
          host: "elsewhere:8080"
        })
        assert.strictEqual(wrongHost.status, 401)
      })
    )
  })

  layer(serverLayer(), { excludeTestServices: true })((it) => {
    it.effect("with no auth.nip98_pubkeys login is disabled: 403", () =>
      Effect.gen(function* () {
        const r = yield* login(yield* nip98Header(yield* alice))
        assert.strictEqual(r.status, 403)
        assert.deepStrictEqual(r.json, {
          success: false,
          error: "NIP-98 login is disabled: set auth.nip98_pubkeys"
        })
      })
    )
  })
})

describe("NIP-98 replay ids in the store", () => {
  it.scoped("an event id accepted by one instance is refused by another on the same database", () =>
    Effect.gen(function* () {
      const first = yield* Effect.provide(SeenIds.SeenIds, SessionLayers.layerSeenIdsStore)
      const second = yield* Effect.provide(SeenIds.SeenIds, SessionLayers.layerSeenIdsStore)
      assert.isTrue(yield* first.markSeen("e".repeat(64), "120 seconds"))
      assert.isFalse(yield* second.markSeen("e".repeat(64), "120 seconds"))
      assert.isTrue(yield* second.markSeen("f".repeat(64), "120 seconds"))
    }).pipe(Effect.provide(Store.layerMemory))
  )
})
