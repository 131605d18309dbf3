import * as Reactivity from "@effect/experimental/Reactivity"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, layer } from "@effect/vitest"
import * as Store from "@portal/store/Store"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as NodePath from "node:path"
import { type Database, storeSuite } from "./suite.js"

const freshSqlite = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "portal-store-" })
  const filename = NodePath.join(dir, "data", "portal-rest.db")
  const db: Database = {
    open: (options = {}) =>
      Store.makeSqlite({ filename, ...(options.retention === undefined ? {} : { retention: options.retention }) }),
    recordedMigrations: SqliteClient.make({ filename }).pipe(
      Effect.flatMap((sql) => sql`SELECT count(*) AS n FROM portal_migrations`),
      Effect.map((rows) => Number(rows[0]?.["n"])),
      Effect.provide(Reactivity.layer)
    )
  }
  return db
})

describe("Store on SQLite", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    storeSuite(it, freshSqlite)

    it.scoped("layerMemory is a working, empty store per build", () =>
      Effect.gen(function* () {
        const use = Effect.gen(function* () {
          const store = yield* Store.Store
          assert.strictEqual(store.backend, "sqlite")
          assert.deepStrictEqual(yield* store.listStreams(), [])
          yield* store.createStream("m", "x")
          assert.strictEqual((yield* store.append("m", { type: "e", data: {} })).index, 0)
        })
        yield* Effect.provide(use, Store.layerMemory)
        yield* Effect.provide(use, Store.layerMemory)
      })
    )
  })
})

const withConfig = (config: object) => Layer.setConfigProvider(ConfigProvider.fromJson(config))

describe("Store.layerConfig", () => {
  layer(NodeContext.layer, { excludeTestServices: true })((it) => {
    it.scoped("without database.url: SQLite at database.path, relative to the data directory", () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped({ prefix: "portal-store-config-" })
        const store = yield* Store.Store.pipe(
          Effect.provide(
            Store.layerConfig({ dataDirectory: dir }).pipe(
              Layer.provide(withConfig({ database: { url: "", path: "sub/state.db" } }))
            )
          )
        )
        assert.strictEqual(store.backend, "sqlite")
        assert.isTrue(yield* fs.exists(NodePath.join(dir, "sub", "state.db")))
      })
    )

    it.effect("a database.url that is not postgres:// is a config error naming the key", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Layer.build(
            Store.layerConfig({ dataDirectory: "/nonexistent" }).pipe(
              Layer.provide(withConfig({ database: { url: "mysql://u:secret@h/db" } }))
            )
          ).pipe(Effect.scoped)
        )
        assert.isTrue(ConfigError.isConfigError(error))
        assert.include(String(error), "database.url")
        assert.notInclude(String(error), "secret")
      })
    )

    it.effect("database.retention_days must be a whole number ≥ 0", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Layer.build(
            Store.layerConfig({ dataDirectory: "/nonexistent" }).pipe(
              Layer.provide(withConfig({ database: { retention_days: -1 } }))
            )
          ).pipe(Effect.scoped)
        )
        assert.isTrue(ConfigError.isConfigError(error))
      })
    )

    it.effect("isPostgresUrl", () =>
      Effect.sync(() => {
        assert.isTrue(Store.isPostgresUrl("postgres://u@h/db"))
        assert.isTrue(Store.isPostgresUrl("postgresql://u@h/db"))
        assert.isFalse(Store.isPostgresUrl("sqlite://x"))
        assert.isFalse(Store.isPostgresUrl(Redacted.value(Redacted.make("portal-rest.db"))))
      })
    )
  })
})
