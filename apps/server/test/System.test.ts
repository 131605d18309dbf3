import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it, layer } from "@effect/vitest"
import { PortalApi } from "@portal/api/PortalApi"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import * as Auth from "@portal/server/Auth"
import * as BuildInfo from "@portal/server/BuildInfo"
import { HttpLayer } from "@portal/server/Http"
import * as HttpSettings from "@portal/server/Http/HttpSettings"
import * as ServerIdentity from "@portal/server/Http/ServerIdentity"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { memoryServices, sessionLayer } from "./HttpServerTest.js"
import { readFileSync } from "node:fs"

const TestServer = HttpLayer.pipe(
  Layer.provide(memoryServices),
  Layer.provide(sessionLayer()),
  Layer.provide(BuildInfo.layerStatic({ version: BuildInfo.version, gitCommit: "0123abcd" })),
  Layer.provide(Auth.layerApiToken(Redacted.make("test-token-0123456789"))),
  Layer.provide(HttpSettings.layer(HttpSettings.defaults)),
  Layer.provide(
    ServerIdentity.layer({
      publicKey: PublicKeyHex.make("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
      relays: []
    })
  ),
  Layer.provideMerge(NodeHttpServer.layerTest)
)

describe("system routes", () => {
  layer(TestServer, { excludeTestServices: true })((it) => {
    it.effect("GET /health answers OK as text/plain", () =>
      Effect.gen(function* () {
        const response = yield* HttpClient.get("/health")
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.headers["content-type"], "text/plain; charset=utf-8")
        assert.strictEqual(yield* response.text, "OK")
      })
    )

    it.effect("GET /version answers the version and commit in the envelope", () =>
      Effect.gen(function* () {
        const client = yield* HttpApiClient.make(PortalApi)
        const body = yield* client.system.version()
        assert.deepStrictEqual(body, { success: true, data: { version: BuildInfo.version, git_commit: "0123abcd" } })
      })
    )
  })

  it("the reported version is the package version", () => {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    assert.isObject(pkg)
    assert.strictEqual((pkg as { version?: unknown }).version, BuildInfo.version)
  })
})
