import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { authed, jsonRequest, layer as serverLayer, postRaw, send, sendJson, nip05User } from "./HttpServerTest.js"

const failure = (error: string) => ({ success: false, error })

// no Content-Length: these bodies arrive chunked
const chunked = (body: string) =>
  HttpClientRequest.post("/calendar/next-occurrence").pipe(
    HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode(body)), { contentType: "application/json" }),
    authed
  )

describe("HTTP edge", () => {
  layer(serverLayer({ maxBodyBytes: 1024 }), { excludeTestServices: true })((it) => {
    it.effect("an unknown route is a JSON 404 naming method and path, before any auth", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/nope?x=1"))
        assert.strictEqual(r.status, 404)
        assert.include(r.headers["content-type"], "application/json")
        assert.deepStrictEqual(r.json, failure("Not found: GET /nope"))
      })
    )

    it.effect("a known path with a wrong method is 405 with Allow", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.put("/relays").pipe(authed))
        assert.strictEqual(r.status, 405)
        assert.strictEqual(r.headers["allow"], "GET, POST, DELETE")
        assert.deepStrictEqual(r.json, failure("Method not allowed: PUT /relays (allowed: GET, POST, DELETE)"))
        const post = yield* sendJson(HttpClientRequest.post("/version"))
        assert.strictEqual(post.status, 405)
        assert.strictEqual(post.headers["allow"], "GET")
      })
    )

    it.effect("a malformed percent-encoding in a path parameter is 400, not 405", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/profile/%ZZ").pipe(authed))
        assert.strictEqual(r.status, 400)
        assert.deepStrictEqual(r.json, failure("Malformed URL path: /profile/%ZZ"))
      })
    )

    it.effect("checks auth before the content type, the content type before the size, the size before JSON", () =>
      Effect.gen(function* () {
        const unauthenticated = yield* sendJson(postRaw("/calendar/next-occurrence", "not json", "text/plain"))
        assert.strictEqual(unauthenticated.status, 401)
        const wrongType = yield* sendJson(
          postRaw("/calendar/next-occurrence", "x".repeat(5000), "text/plain").pipe(authed)
        )
        assert.strictEqual(wrongType.status, 415)
        assert.deepStrictEqual(wrongType.json, failure("Content-Type must be application/json"))
        const tooLarge = yield* sendJson(
          postRaw("/calendar/next-occurrence", "{" + "x".repeat(5000), "application/json").pipe(authed)
        )
        assert.strictEqual(tooLarge.status, 413)
        assert.deepStrictEqual(tooLarge.json, failure("Request body exceeds 1024 bytes"))
        const badJson = yield* sendJson(postRaw("/calendar/next-occurrence", "{bad", "application/json").pipe(authed))
        assert.strictEqual(badJson.status, 400)
        assert.match((badJson.json as { error: string }).error, /^Invalid JSON body: /)
      })
    )

    it.effect("a missing Content-Type on a JSON route is 415; an empty JSON body is 400", () =>
      Effect.gen(function* () {
        const missing = yield* sendJson(postRaw("/relays", '{"relay":"wss://a.example"}').pipe(authed))
        assert.strictEqual(missing.status, 415)
        const empty = yield* sendJson(postRaw("/relays", "", "application/json").pipe(authed))
        assert.strictEqual(empty.status, 400)
        assert.deepStrictEqual(empty.json, failure("Invalid JSON body: Unexpected end of JSON input"))
        const array = yield* sendJson(postRaw("/relays", "[]", "application/json; charset=utf-8").pipe(authed))
        assert.strictEqual(array.status, 400)
        assert.deepStrictEqual(array.json, failure("Invalid JSON body: expected a JSON object"))
      })
    )

    it.effect("a chunked body is read up to the limit: under it is served, over it is refused", () =>
      Effect.gen(function* () {
        const small = yield* sendJson(chunked(JSON.stringify({ calendar: "daily", from: "1700000000" })))
        assert.strictEqual(small.status, 200)
        const large = yield* sendJson(
          chunked(JSON.stringify({ calendar: "daily", from: "1", pad: "x".repeat(4000) }))
        ).pipe(Effect.either)
        // The server stops reading at the limit; Node may reset the connection before the 413 reaches the client.
        if (large._tag === "Right") {
          assert.strictEqual(large.right.status, 413)
          assert.deepStrictEqual(large.right.json, failure("Request body exceeds 1024 bytes"))
        } else {
          assert.strictEqual(large.left._tag, "RequestError")
        }
      })
    )

    it.effect("schema failures are 400 naming the field and the bad value", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [string, unknown, string]> = [
          ["/calendar/next-occurrence", { from: "1700000000" }, "calendar: is required"],
          [
            "/calendar/next-occurrence",
            { calendar: "daily", from: 1.5 },
            "from: expected Unix seconds as a decimal string or integer, got 1.5"
          ],
          [
            "/calendar/next-occurrence",
            { calendar: "daily", from: " 17" },
            'from: expected Unix seconds as a decimal string or integer, got " 17"'
          ],
          [
            "/payments/single",
            {
              main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
              payment_request: { description: "Coffee", amount: 0, currency: "Millisats" }
            },
            "payment_request.amount: expected an integer greater than 0, got 0"
          ],
          [
            "/payments/single",
            {
              main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
              payment_request: { description: "Coffee", amount: 1000, currency: "sats" }
            },
            'payment_request.currency: "sats" is not accepted; amounts are in millisats: use "Millisats" and multiply by 1000'
          ],
          [
            "/payments/single",
            {
              main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
              payment_request: { description: "Coffee", amount: 1000, currency: { Fiat: "EUR" } }
            },
            'payment_request.currency: unsupported currency {"Fiat":"EUR"}: expected "Millisats" or an ISO-4217 code such as "EUR"'
          ],
          [
            "/authenticate-key",
            { main_key: "abc", subkeys: [] },
            "Invalid main key: expected 64 hex characters, npub1… or nostr:npub1…"
          ],
          [
            "/authenticate-key",
            { main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", subkeys: ["zz"] },
            "Invalid subkeys: expected 64 hex characters, npub1… or nostr:npub1…"
          ],
          ["/relays", { relay: "https://relay.example" }, "relay: expected a ws:// or wss:// URL"],
          ["/key-handshake", { no_request: "yes" }, 'no_request: expected boolean, got "yes"'],
          [
            "/authenticate-key",
            { main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", subkeys: 5 },
            "subkeys: expected an array, got 5"
          ],
          [
            "/payments/single",
            { main_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" },
            "payment_request: is required"
          ],
          [
            "/jwt/issue",
            { target_key: "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", duration_hours: 0 },
            "duration_hours: expected an integer from 1 to 87600, got 0"
          ],
          [
            "/key-handshake",
            { static_token: "has space" },
            "static_token: use 1–128 characters from A-Z a-z 0-9 . _ ~ -"
          ]
        ]
        for (const [path, body, message] of cases) {
          const r = yield* sendJson(jsonRequest("POST", path, body).pipe(authed))
          assert.strictEqual(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`)
          assert.deepStrictEqual(r.json, failure(message))
        }
      })
    )

    it.effect("a bad query parameter or path key is 400", () =>
      Effect.gen(function* () {
        const after = yield* sendJson(HttpClientRequest.get("/events/abc?after=abc").pipe(authed))
        assert.strictEqual(after.status, 400)
        assert.deepStrictEqual(after.json, failure('after: expected a non-negative integer, got "abc"'))
        const key = yield* sendJson(HttpClientRequest.get("/profile/npub1nope").pipe(authed))
        assert.strictEqual(key.status, 400)
        assert.match((key.json as { error: string }).error, /^Invalid main key: /)
      })
    )

    it.effect("GET /nip05/{nip05} resolves through the host's nostr.json; 400 malformed, 502 host failure", () =>
      Effect.gen(function* () {
        const found = yield* sendJson(HttpClientRequest.get("/nip05/user%40domain.example").pipe(authed))
        assert.strictEqual(found.status, 200, found.text)
        assert.deepStrictEqual(found.json, {
          success: true,
          data: { profile: { public_key: nip05User.publicKey, relays: nip05User.relays, nip46: nip05User.nip46 } }
        })
        const unknownName = yield* sendJson(HttpClientRequest.get("/nip05/nobody@domain.example").pipe(authed))
        assert.strictEqual(unknownName.status, 502)
        assert.match((unknownName.json as { error: string }).error, /^Failed to fetch nip05 profile: NotFound: /)
        const down = yield* sendJson(HttpClientRequest.get("/nip05/user@down.example").pipe(authed))
        assert.strictEqual(down.status, 502)
        assert.match((down.json as { error: string }).error, /^Failed to fetch nip05 profile: Unreachable: /)
        const malformed = yield* sendJson(HttpClientRequest.get("/nip05/us%20er@domain.example").pipe(authed))
        assert.strictEqual(malformed.status, 400, malformed.text)
      })
    )

    it.effect("POST /cashu/mint validates the input before calling any mint", () =>
      Effect.gen(function* () {
        const zero = yield* sendJson(
          jsonRequest("POST", "/cashu/mint", { mint_url: "http://127.0.0.1:1", unit: "sat", amount: 0 }).pipe(authed)
        )
        assert.strictEqual(zero.status, 400, zero.text)
        assert.match((zero.json as { error: string }).error, /^amount: /)
        const unit = yield* sendJson(
          jsonRequest("POST", "/cashu/mint", { mint_url: "http://127.0.0.1:1", unit: "SAT!", amount: 1 }).pipe(authed)
        )
        assert.strictEqual(unit.status, 400, unit.text)
        assert.match((unit.json as { error: string }).error, /^unit: /)
      })
    )

    it.effect("POST /key-handshake takes an empty body without Content-Type as {}", () =>
      Effect.gen(function* () {
        const empty = yield* sendJson(HttpClientRequest.post("/key-handshake").pipe(authed))
        assert.strictEqual(empty.status, 201, empty.text)
        const data = (empty.json as { data: { url: string; stream_id: string } }).data
        assert.match(data.url, /^portal:\/\/npub1[0-9a-z]+\?relays=.*&token=token_[A-Za-z0-9]{32}$/)
        assert.match(data.stream_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        const jsonNull = yield* sendJson(postRaw("/key-handshake", "null", "application/json").pipe(authed))
        assert.strictEqual(jsonNull.status, 400)
      })
    )

    it.effect("CORS is off by default", () =>
      Effect.gen(function* () {
        const r = yield* send(
          HttpClientRequest.get("/version").pipe(HttpClientRequest.setHeader("origin", "https://a.example"))
        )
        assert.strictEqual(r.status, 200)
        assert.isUndefined(r.headers["access-control-allow-origin"])
        const preflight = yield* send(
          HttpClientRequest.options("/relays").pipe(
            HttpClientRequest.setHeader("origin", "https://a.example"),
            HttpClientRequest.setHeader("access-control-request-method", "POST")
          )
        )
        assert.strictEqual(preflight.status, 405)
        assert.isUndefined(preflight.headers["access-control-allow-origin"])
      })
    )
  })

  layer(serverLayer({ corsOrigins: ["https://app.example"] }), { excludeTestServices: true })((it) => {
    it.effect("with server.cors_origins, listed origins get CORS headers, errors included", () =>
      Effect.gen(function* () {
        const origin = HttpClientRequest.setHeader("origin", "https://app.example")
        const preflight = yield* send(
          HttpClientRequest.options("/relays").pipe(
            origin,
            HttpClientRequest.setHeader("access-control-request-method", "POST")
          )
        )
        assert.strictEqual(preflight.headers["access-control-allow-origin"], "https://app.example")
        assert.include(preflight.headers["access-control-allow-headers"], "Authorization")
        const unauthorized = yield* send(HttpClientRequest.get("/info").pipe(origin))
        assert.strictEqual(unauthorized.status, 401)
        assert.strictEqual(unauthorized.headers["access-control-allow-origin"], "https://app.example")
      })
    )
  })
})
