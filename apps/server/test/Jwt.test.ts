import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Jwt from "@portal/jwt/Jwt"
import * as Keys from "@portal/nostr/Keys"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { authed, jsonRequest, layer as serverLayer, mainKey, publicKey, secretKey, sendJson } from "./HttpServerTest.js"

const userKey = "60306a10cf304a12826e8afe728bd3c3045cc4d3566c3004429000e571adac91"

const post = (path: string, body: unknown) => sendJson(jsonRequest("POST", path, body).pipe(authed))

/** A token signed by the test daemon's key at a chosen time. */
const signedAt = (now: number, durationSeconds: number) =>
  Effect.flatMap(Effect.orDie(Keys.fromSecret(secretKey)), (keys) =>
    Effect.orDie(Jwt.issue({ secretKey: keys.secretKey, targetKey: userKey as never, now, durationSeconds }))
  )

const nowSeconds = () => Math.floor(Date.now() / 1000)

describe("POST /jwt/issue and /jwt/verify", () => {
  layer(serverLayer(), { excludeTestServices: true })((it) => {
    it.effect("a token issued for an npub verifies against the daemon key and names the hex key", () =>
      Effect.gen(function* () {
        const issued = yield* post("/jwt/issue", { target_key: Keys.npub(userKey as never), duration_hours: 24 })
        assert.strictEqual(issued.status, 200)
        const { token } = (issued.json as { success: true; data: { token: string } }).data
        assert.match(token, /^eyJhbGciOiJFUzI1NksifQ\.[\w-]+\.[\w-]+$/)
        const claims = yield* Jwt.decode(token, publicKey)
        const lifetime = Option.zipWith(claims.exp, claims.iat, (exp, iat) => exp - iat)
        assert.deepStrictEqual(lifetime, Option.some(24 * 3600))
        const verified = yield* post("/jwt/verify", { pubkey: publicKey, token })
        assert.strictEqual(verified.status, 200)
        assert.deepStrictEqual(verified.json, { success: true, data: { target_key: userKey } })
      })
    )

    it.effect("an expired, not yet valid or foreign token is 400 with the §e message", () =>
      Effect.gen(function* () {
        const now = nowSeconds()
        const expired = yield* signedAt(now - 7200, 3600)
        const future = yield* signedAt(now + 3600, 3600)
        const fresh = yield* signedAt(now, 3600)
        const cases: ReadonlyArray<readonly [string, string, string]> = [
          [expired, publicKey, `Failed to verify JWT: token expired at ${now - 3600}`],
          [future, publicKey, `Failed to verify JWT: token not valid before ${now + 3600}`],
          [fresh, mainKey, "Failed to verify JWT: invalid signature"]
        ]
        for (const [token, pubkey, message] of cases) {
          const r = yield* post("/jwt/verify", { pubkey, token })
          assert.strictEqual(r.status, 400, message)
          assert.deepStrictEqual(r.json, { success: false, error: message })
        }
        const garbage = yield* post("/jwt/verify", { pubkey: publicKey, token: "not-a-jwt" })
        assert.strictEqual(garbage.status, 400)
        assert.match((garbage.json as { error: string }).error, /^Failed to verify JWT: /)
      })
    )

    it.effect("duration_hours outside 1..87600 and a bad target key are 400", () =>
      Effect.gen(function* () {
        for (const body of [
          { target_key: userKey, duration_hours: 0 },
          { target_key: userKey, duration_hours: 87601 },
          { target_key: "nope", duration_hours: 1 }
        ]) {
          const r = yield* post("/jwt/issue", body)
          assert.strictEqual(r.status, 400, JSON.stringify(body))
        }
      })
    )

    it.effect("needs the bearer token", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(jsonRequest("POST", "/jwt/issue", { target_key: userKey, duration_hours: 1 }))
        assert.strictEqual(r.status, 401)
        const v = yield* sendJson(HttpClientRequest.post("/jwt/verify"))
        assert.strictEqual(v.status, 401)
      })
    )
  })
})
