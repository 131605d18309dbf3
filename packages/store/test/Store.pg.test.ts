import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Store from "@portal/store/Store"
import { PgCluster } from "@portal/testing"
import * as Array from "effect/Array"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Order from "effect/Order"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Chunk from "effect/Chunk"
import { type Database, storeSuite } from "./suite.js"

const externalUrl = process.env.PORTAL_TEST_DATABASE_URL
const runnable = (externalUrl !== undefined && externalUrl !== "") || PgCluster.binariesAvailable()
if (!runnable) {
  console.warn(
    "\n!!! SKIPPED: the PostgreSQL half of the store suite. No PostgreSQL binaries (initdb, pg_ctl, postgres, psql) " +
      "on PATH and PORTAL_TEST_DATABASE_URL is unset. !!!\n"
  )
}

const openDatabase = (url: string): Database => ({
  open: (options = {}) =>
    Store.makePg({
      url: Redacted.make(url),
      maxConnections: 5,
      ...(options.retention === undefined ? {} : { retention: options.retention }),
      ...(options.pollInterval === undefined ? {} : { pollInterval: options.pollInterval })
    }),
  recordedMigrations: PgClient.make({ url: Redacted.make(url), maxConnections: 1 }).pipe(
    Effect.flatMap((sql) => sql`SELECT count(*) AS n FROM portal_migrations`),
    Effect.map((rows) => Number(rows[0]?.["n"])),
    Effect.provide(Reactivity.layer)
  )
})

/**
 * Test databases: an admin connection creates each one as a copy of a template the store has already migrated
 * (much faster than `psql` + migrating every time). `emptyPg` gives a database that was never migrated.
 */
class Databases extends Context.Tag("test/Databases")<
  Databases,
  { readonly migrated: Effect.Effect<string>; readonly empty: Effect.Effect<string> }
>() {}

const DatabasesLayer = Layer.scoped(
  Databases,
  Effect.gen(function* () {
    const cluster = yield* PgCluster.PgCluster
    const admin = yield* PgClient.make({ url: Redacted.make(cluster.url), maxConnections: 2 }).pipe(
      Effect.provide(Reactivity.layer)
    )
    let counter = 0
    const create = (template: string) =>
      Effect.suspend(() => {
        const name = `store_${process.pid}_${counter++}`
        const url = new URL(cluster.url)
        url.pathname = `/${name}`
        return admin
          .unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`)
          .pipe(Effect.as(url.toString()), Effect.orDie)
      })
    const template = yield* create("template0")
    // migrate it once; the store's connections close before it is used as a template
    yield* Effect.scoped(Store.makePg({ url: Redacted.make(template), retention: false }))
    const templateName = new URL(template).pathname.slice(1)
    return { migrated: create(templateName), empty: create("template0") }
  })
).pipe(Layer.provideMerge(PgCluster.layerFrom(externalUrl)))

const freshPg = Effect.map(Databases, (databases) => databases.migrated).pipe(Effect.flatten, Effect.map(openDatabase))
const emptyPg = Effect.map(Databases, (databases) => databases.empty).pipe(Effect.flatten, Effect.map(openDatabase))

describe.skipIf(!runnable)("Store on PostgreSQL", () => {
  layer(DatabasesLayer, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    storeSuite(it, freshPg)

    it.scoped("two instances on one database see each other's events live (LISTEN/NOTIFY, not polling)", () =>
      Effect.gen(function* () {
        const db = yield* freshPg
        const a = yield* db.open({ retention: false, pollInterval: "1 hour" })
        const b = yield* db.open({ retention: false, pollInterval: "1 hour" })
        yield* a.createStream("shared", "key_handshake")
        const onB = yield* b.events("shared").pipe(Stream.take(4), Stream.runCollect, Effect.fork)
        const onA = yield* a.events("shared").pipe(Stream.take(4), Stream.runCollect, Effect.fork)
        yield* Effect.sleep("100 millis")
        yield* a.append("shared", { type: "e", data: { from: "a" } })
        yield* b.append("shared", { type: "e", data: { from: "b" } })
        yield* a.append("shared", { type: "e", data: { from: "a" } })
        yield* b.append("shared", { type: "e", data: { from: "b" } })
        for (const fiber of [onA, onB]) {
          const events = Chunk.toReadonlyArray(yield* fiber.await.pipe(Effect.flatten, Effect.timeout("5 seconds")))
          assert.deepStrictEqual(
            events.map((e) => [e.index, e.data["from"]]),
            [
              [0, "a"],
              [1, "b"],
              [2, "a"],
              [3, "b"]
            ]
          )
        }
      })
    )

    it.scoped("appends from two instances to one stream stay gapless", () =>
      Effect.gen(function* () {
        const db = yield* freshPg
        const a = yield* db.open({ retention: false })
        const b = yield* db.open({ retention: false })
        yield* a.createStream("both", "x")
        const got = yield* Effect.forEach(
          Array.range(0, 199),
          (n) => (n % 2 === 0 ? a : b).append("both", { type: "e", data: { n } }),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          Array.sort(
            got.map((e) => e.index),
            Order.number
          ),
          Array.range(0, 199)
        )
        assert.strictEqual((yield* b.getStream("both")).eventCount, 200)
      })
    )

    it.scoped("instances starting together on a fresh database migrate it once", () =>
      Effect.gen(function* () {
        const db = yield* emptyPg
        const stores = yield* Effect.all([db.open(), db.open(), db.open()], { concurrency: "unbounded" })
        yield* stores[0].createStream("x", "x")
        assert.strictEqual((yield* stores[2].getStream("x")).id, "x")
        assert.strictEqual(yield* db.recordedMigrations, 1)
      })
    )

    it.scoped("layerConfig: a postgres:// database.url selects PostgreSQL", () =>
      Effect.gen(function* () {
        const url = yield* Effect.flatten(Effect.map(Databases, (databases) => databases.migrated))
        const context = yield* Layer.build(
          Store.layerConfig({ dataDirectory: "/nonexistent" }).pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({ database: { url, path: "ignored.db" } })))
          )
        )
        const store = Context.get(context, Store.Store)
        assert.strictEqual(store.backend, "pg")
        yield* store.createStream("configured", "x")
        assert.strictEqual((yield* store.append("configured", { type: "e", data: {} })).index, 0)
      })
    )
  })
})
