/**
 * `Output.describe` and `Output.run`: the one line a failed command prints, for every kind of failure, from real
 * errors (a closed loopback port, a loopback HTTP server answering badly, a schema that does not match).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Output from "@portal/cli/Output"
import * as ApiError from "@portal/api/ApiError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"

/** A loopback server: `/bad-gateway` answers 502, `/text` 200 with a non-JSON body, `/json` 200 `{"x":"one"}`. */
const server = Effect.acquireRelease(
  Effect.async<ReturnType<typeof createServer>>((resume) => {
    const s = createServer((request, response) => {
      if (request.url === "/bad-gateway") response.writeHead(502).end("upstream down")
      else if (request.url === "/text") response.writeHead(200, { "content-type": "text/plain" }).end("not json")
      else response.writeHead(200, { "content-type": "application/json" }).end('{"x":"one"}')
    })
    s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
  }),
  (s) => Effect.async<void>((resume) => void s.close(() => resume(Effect.void)))
).pipe(
  Effect.map((s) => {
    const address = s.address()
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  })
)

/** A port nothing listens on (a listener opened and closed again). */
const closedPort = Effect.map(Effect.scoped(server), (url) => new URL(url).port)

const failureOf = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
  Effect.flip(effect).pipe(Effect.provide(FetchHttpClient.layer))

describe("Output.describe", () => {
  it.live("a daemon that is down: its origin and the network code", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const error = yield* failureOf(HttpClient.get(`http://127.0.0.1:${port}/info?x=1`))
      assert.strictEqual(
        Output.describe(error),
        `cannot reach the daemon at http://127.0.0.1:${port}: ECONNREFUSED (is it running? check --url / PORTAL_URL)`
      )
    })
  )

  it.scopedLive("a status the client did not expect, and a body that is not JSON: the reason and the status", () =>
    Effect.gen(function* () {
      const url = yield* server
      const status = yield* failureOf(
        HttpClient.get(`${url}/bad-gateway`).pipe(Effect.flatMap(HttpClientResponse.filterStatusOk))
      )
      assert.strictEqual(Output.describe(status), "unexpected answer from the daemon (StatusCode, HTTP 502)")
      const decode = yield* failureOf(HttpClient.get(`${url}/text`).pipe(Effect.flatMap((r) => r.json)))
      assert.strictEqual(Output.describe(decode), "unexpected answer from the daemon (Decode, HTTP 200)")
    })
  )

  it.scopedLive("an answer that does not match the contract: the first line of the schema's message", () =>
    Effect.gen(function* () {
      const url = yield* server
      const error = yield* failureOf(
        HttpClient.get(`${url}/json`).pipe(
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Schema.Struct({ x: Schema.Number })))
        )
      )
      assert.strictEqual(error._tag, "ParseError")
      const line = Output.describe(error)
      assert.match(line, /^unexpected answer from the daemon: \S/)
      assert.notInclude(line, "\n")
    })
  )

  it("wire errors by status; anything else by the first line of its message", () => {
    assert.strictEqual(
      Output.describe(new ApiError.NotFound({ error: "Stream 'x' not found" })),
      "daemon answered 404: Stream 'x' not found"
    )
    assert.strictEqual(Output.describe(new Error("first\nsecond")), "first")
    assert.strictEqual(Output.describe({ message: "plain object" }), "plain object")
    assert.strictEqual(Output.describe("a string"), "a string")
  })
})

describe("Output.run", () => {
  it.live(
    "prints one line on stderr and fails with the error's exit code (CliError's own, else 1, also for a defect)",
    () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const base = yield* Effect.console
        const capture: Console.Console = {
          ...base,
          error: (...parts) => Effect.sync(() => void lines.push(parts.join(" ")))
        }
        const run = Output.run({ json: false, verbose: false })
        const usage = yield* Effect.flip(
          run(Effect.fail(new Output.CliError({ message: "amount: expected a whole number, got x", exitCode: 2 })))
        ).pipe(Effect.withConsole(capture))
        assert.deepStrictEqual([usage.exitCode, usage.line], [2, "error: amount: expected a whole number, got x"])
        const other = yield* Effect.flip(run(Effect.dieMessage("boom"))).pipe(Effect.withConsole(capture))
        assert.strictEqual(other.exitCode, 1)
        assert.deepStrictEqual(lines, ["error: amount: expected a whole number, got x", "error: boom"])
      })
  )
})
