import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Auth from "@portal/server/Auth"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { layer as serverLayer, send, sendJson, token } from "./HttpServerTest.js"

const withAuthorization = (value: string) => HttpClientRequest.setHeader("authorization", value)

describe("bearer auth", () => {
  layer(serverLayer(), { excludeTestServices: true })((it) => {
    it.effect("refuses a missing, malformed or wrong token with 401, the reference messages and WWW-Authenticate", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [HttpClientRequest.HttpClientRequest, string]> = [
          [HttpClientRequest.get("/info"), "Authentication failed: Missing Authorization header"],
          [
            HttpClientRequest.get("/info").pipe(withAuthorization(`bearer ${token}`)),
            "Authentication failed: Invalid Authorization header format"
          ],
          [
            HttpClientRequest.get("/info").pipe(withAuthorization(`Bearer  ${token}`)),
            "Authentication failed: Invalid token"
          ],
          [
            HttpClientRequest.get("/info").pipe(withAuthorization(`Bearer ${token}x`)),
            "Authentication failed: Invalid token"
          ],
          [
            HttpClientRequest.get("/info").pipe(withAuthorization(`Bearer ${token.slice(0, -1)}`)),
            "Authentication failed: Invalid token"
          ],
          // HTTP drops trailing whitespace: this arrives as `Bearer`
          [
            HttpClientRequest.get("/info").pipe(withAuthorization("Bearer ")),
            "Authentication failed: Invalid Authorization header format"
          ],
          [
            HttpClientRequest.get("/info").pipe(withAuthorization(`Basic ${token}`)),
            "Authentication failed: Invalid Authorization header format"
          ]
        ]
        for (const [request, message] of cases) {
          const r = yield* sendJson(request)
          assert.strictEqual(r.status, 401, message)
          assert.strictEqual(r.headers["www-authenticate"], "Bearer")
          assert.include(r.headers["content-type"], "application/json")
          assert.deepStrictEqual(r.json, { success: false, error: message })
        }
      })
    )

    it.effect("accepts the exact token on every authenticated route", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/info").pipe(withAuthorization(`Bearer ${token}`)))
        assert.strictEqual(r.status, 200)
      })
    )

    it.effect("protects every route but the public ones", () =>
      Effect.gen(function* () {
        const protectedRoutes: ReadonlyArray<HttpClientRequest.HttpClientRequest> = [
          HttpClientRequest.get("/info"),
          HttpClientRequest.post("/key-handshake"),
          HttpClientRequest.del("/key-handshake/abc"),
          HttpClientRequest.post("/authenticate-key"),
          HttpClientRequest.post("/payments/single"),
          HttpClientRequest.post("/payments/raw"),
          HttpClientRequest.post("/payments/recurring"),
          HttpClientRequest.post("/payments/recurring/close"),
          HttpClientRequest.get("/profile/abc"),
          HttpClientRequest.post("/invoices/request"),
          HttpClientRequest.post("/invoices/pay"),
          HttpClientRequest.post("/jwt/issue"),
          HttpClientRequest.post("/jwt/verify"),
          HttpClientRequest.post("/cashu/request"),
          HttpClientRequest.post("/cashu/send-direct"),
          HttpClientRequest.post("/cashu/mint"),
          HttpClientRequest.post("/cashu/burn"),
          HttpClientRequest.get("/relays"),
          HttpClientRequest.post("/relays"),
          HttpClientRequest.del("/relays"),
          HttpClientRequest.post("/calendar/next-occurrence"),
          HttpClientRequest.get("/nip05/a@b.example"),
          HttpClientRequest.get("/wallet/info"),
          HttpClientRequest.get("/events/abc")
        ]
        for (const request of protectedRoutes) {
          const r = yield* sendJson(request)
          assert.strictEqual(r.status, 401, `${request.method} ${request.url}`)
        }
        const publicRoutes = [
          "/health",
          "/version",
          "/well-known/nostr.json",
          "/.well-known/nostr.json",
          "/openapi.json"
        ]
        for (const path of publicRoutes) {
          const plain = yield* send(HttpClientRequest.get(path))
          const withWrongToken = yield* send(HttpClientRequest.get(path).pipe(withAuthorization("Bearer wrong")))
          assert.strictEqual(plain.status, 200, path)
          assert.strictEqual(withWrongToken.status, 200, path)
        }
      })
    )
  })

  it.effect("compares tokens of any length without throwing", () =>
    Effect.sync(() => {
      const expected = Redacted.make("secret-token-value")
      assert.isTrue(Auth.tokenMatches("secret-token-value", expected))
      assert.isFalse(Auth.tokenMatches("secret-token-valu", expected))
      assert.isFalse(Auth.tokenMatches("", expected))
      assert.isFalse(Auth.tokenMatches("x".repeat(10_000), expected))
    })
  )
})
