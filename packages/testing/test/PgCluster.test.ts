import { assert, describe, layer } from "@effect/vitest"
import * as PgCluster from "@portal/testing/PgCluster"
import * as Command from "@effect/platform/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"

const externalUrl = process.env.PORTAL_TEST_DATABASE_URL
const runnable = (externalUrl !== undefined && externalUrl !== "") || PgCluster.binariesAvailable()
if (!runnable) {
  console.warn(
    "\n!!! SKIPPED: PostgreSQL tests. No PostgreSQL binaries on PATH and PORTAL_TEST_DATABASE_URL is unset. !!!\n"
  )
}

const psql = (url: string, query: string) =>
  Command.make("psql", "-v", "ON_ERROR_STOP=1", "-At", "-d", url, "-c", query).pipe(Command.string)

describe.skipIf(!runnable)("PgCluster", () => {
  layer(PgCluster.layerFrom(externalUrl), { excludeTestServices: true })((it) => {
    it.effect("serves SQL on the URL it reports", () =>
      Effect.gen(function* () {
        const cluster = yield* PgCluster.PgCluster
        const out = yield* psql(cluster.url, "select 40 + 2")
        assert.strictEqual(out.trim(), "42")
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.effect("creates separate empty databases", () =>
      Effect.gen(function* () {
        const cluster = yield* PgCluster.PgCluster
        const a = yield* cluster.createDatabase()
        const b = yield* cluster.createDatabase()
        assert.notStrictEqual(a, b)
        yield* psql(a, "create table only_in_a (x int); insert into only_in_a values (1)")
        assert.strictEqual((yield* psql(a, "select count(*) from only_in_a")).trim(), "1")
        const inB = yield* psql(b, "select to_regclass('only_in_a') is null")
        assert.strictEqual(inB.trim(), "t")
      }).pipe(Effect.provide(NodeContext.layer))
    )

    it.effect("refuses a database name that is not a plain identifier", () =>
      Effect.gen(function* () {
        const cluster = yield* PgCluster.PgCluster
        const error = yield* Effect.flip(cluster.createDatabase("x; drop database postgres"))
        assert.strictEqual(error.reason, "Command")
      })
    )
  })
})

describe("PgCluster.binariesAvailable", () => {
  layer(NodeContext.layer)((it) => {
    it.effect("is false when the binaries are not on the PATH given", () =>
      Effect.sync(() => assert.isFalse(PgCluster.binariesAvailable("/nonexistent")))
    )
  })
})
