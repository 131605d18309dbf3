import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, layer } from "@effect/vitest"
import { PortalApi } from "@portal/api/PortalApi"
import * as Calendar from "@portal/protocol/Calendar"
import * as BuildInfo from "@portal/server/BuildInfo"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { readFileSync } from "node:fs"
import {
  authed,
  gitCommit,
  jsonRequest,
  layer as serverLayer,
  mainKey,
  publicKey,
  relays,
  send,
  sendJson,
  token
} from "./HttpServerTest.js"

interface NextOccurrenceVector {
  readonly name: string
  readonly group: string
  readonly input: string
  readonly from: number
  readonly expected: number | null
}

const calendarVectors = (
  JSON.parse(readFileSync(new URL("../../../../shared/vectors/calendar.json", import.meta.url), "utf8")) as {
    readonly vectors: ReadonlyArray<NextOccurrenceVector>
  }
).vectors

describe("implemented routes", () => {
  layer(serverLayer({}, { profileName: "Shop" }), { excludeTestServices: true })((it) => {
    it.effect("POST /calendar/next-occurrence answers every next-occurrence vector, `from` as string or integer", () =>
      Effect.gen(function* () {
        const vectors = calendarVectors.filter((v) => v.group === "next_occurrence")
        assert.isAbove(vectors.length, 10)
        for (const vector of vectors) {
          for (const from of [String(vector.from), vector.from]) {
            const r = yield* sendJson(
              jsonRequest("POST", "/calendar/next-occurrence", { calendar: vector.input, from }).pipe(authed)
            )
            assert.strictEqual(r.status, 200, `${vector.name}: ${r.text}`)
            assert.deepStrictEqual(
              r.json,
              { success: true, data: { next_occurrence: vector.expected === null ? null : String(vector.expected) } },
              vector.name
            )
          }
        }
      })
    )

    it.effect("POST /calendar/next-occurrence refuses an invalid calendar with 400 Invalid calendar", () =>
      Effect.gen(function* () {
        const errors = calendarVectors.filter((v) => v.group === "parse_error")
        assert.isAbove(errors.length, 5)
        for (const vector of errors) {
          const r = yield* sendJson(
            jsonRequest("POST", "/calendar/next-occurrence", { calendar: vector.input, from: "1700000000" }).pipe(
              authed
            )
          )
          assert.strictEqual(r.status, 400, vector.name)
          const body = r.json as { success: boolean; error: string }
          assert.isFalse(body.success)
          assert.match(body.error, /^Invalid calendar: /, vector.name)
        }
      })
    )

    it.effect("the typed client gets the next occurrence as a decoded value", () =>
      Effect.gen(function* () {
        const client = yield* HttpApiClient.make(PortalApi, {
          transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
        })
        const calendar = yield* Calendar.parse("daily")
        const answer = yield* client.calendar.nextOccurrence({ payload: { calendar, from: 1700000000 as never } })
        assert.deepStrictEqual(answer.data.next_occurrence, Option.some(1700006400))
      })
    )

    it.effect("GET /info answers the signing key, version and commit", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/info").pipe(authed))
        assert.deepStrictEqual(r.json, {
          success: true,
          data: { public_key: publicKey, version: BuildInfo.version, git_commit: gitCommit }
        })
      })
    )

    it.effect("GET /well-known/nostr.json is the reference's enveloped document with the signing key", () =>
      Effect.gen(function* () {
        const r = yield* sendJson(HttpClientRequest.get("/well-known/nostr.json?name=other"))
        assert.deepStrictEqual(r.json, {
          success: true,
          data: { names: { Shop: publicKey }, relays: { [publicKey]: relays } }
        })
      })
    )

    it.effect("GET /.well-known/nostr.json is a valid NIP-05 document for the main key, with CORS *", () =>
      Effect.gen(function* () {
        const all = yield* sendJson(HttpClientRequest.get("/.well-known/nostr.json"))
        assert.strictEqual(all.status, 200)
        assert.strictEqual(all.headers["access-control-allow-origin"], "*")
        assert.include(all.headers["content-type"], "application/json")
        assert.deepStrictEqual(all.json, { names: { shop: mainKey }, relays: { [mainKey]: relays } })
        const matching = yield* sendJson(HttpClientRequest.get("/.well-known/nostr.json?name=SHOP"))
        assert.deepStrictEqual(matching.json, all.json)
        const other = yield* sendJson(HttpClientRequest.get("/.well-known/nostr.json?name=bob"))
        assert.deepStrictEqual(other.json, { names: {} })
      })
    )

    it.effect("GET /docs serves an HTML reference with every script inline (no CDN)", () =>
      Effect.gen(function* () {
        const r = yield* send(HttpClientRequest.get("/docs"))
        assert.strictEqual(r.status, 200)
        assert.include(r.headers["content-type"], "text/html")
        assert.include(r.text, "SwaggerUIBundle")
        assert.include(r.text, "/calendar/next-occurrence")
        assert.notMatch(r.text, /<script[^>]+src=/)
        assert.notMatch(r.text, /<link[^>]+href="https?:/)
      })
    )
  })

  layer(serverLayer({}, { relays: [] }), { excludeTestServices: true })((it) => {
    it.effect("the NIP-05 documents leave relays out when there are none and name the key `_` without a profile", () =>
      Effect.gen(function* () {
        const dotted = yield* sendJson(HttpClientRequest.get("/.well-known/nostr.json"))
        assert.deepStrictEqual(dotted.json, { names: { _: mainKey } })
        const reference = yield* sendJson(HttpClientRequest.get("/well-known/nostr.json"))
        assert.deepStrictEqual(reference.json, { success: true, data: { names: { _: publicKey } } })
      })
    )
  })
})
