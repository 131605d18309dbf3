/**
 * Schema migrations for both dialects, run by `@effect/sql`'s Migrator at startup. Append new entries
 * (`"0002_<name>"`); never edit one that has shipped. Each entry runs once per database, in id order, inside
 * the migrator's transaction.
 *
 * Times are Unix milliseconds (`INTEGER` in SQLite, `BIGINT` in PostgreSQL); JSON is stored as text so that
 * what was appended is what is read back, byte for byte.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

/** The table the migrator records applied migrations in. */
export const table = "portal_migrations"

const statements = (dialect: "pg" | "sqlite"): ReadonlyArray<string> => {
  const time = dialect === "pg" ? "BIGINT" : "INTEGER"
  const serial =
    dialect === "pg" ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
  return [
    `CREATE TABLE streams (
      id TEXT PRIMARY KEY NOT NULL,
      kind TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('in_flight', 'completed', 'failed')),
      next_index INTEGER NOT NULL DEFAULT 0,
      created_at ${time} NOT NULL,
      updated_at ${time} NOT NULL,
      finished_at ${time}
    )`,
    `CREATE INDEX streams_finished_at ON streams (finished_at) WHERE finished_at IS NOT NULL`,
    `CREATE INDEX streams_status ON streams (status, kind)`,
    `CREATE TABLE stream_events (
      stream_id TEXT NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
      idx INTEGER NOT NULL CHECK (idx >= 0),
      created_at ${time} NOT NULL,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      PRIMARY KEY (stream_id, idx)
    )`,
    `CREATE TABLE operations (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      stream_id TEXT REFERENCES streams (id) ON DELETE CASCADE,
      payload TEXT NOT NULL,
      deadline ${time},
      owner TEXT,
      lease_until ${time},
      created_at ${time} NOT NULL,
      updated_at ${time} NOT NULL,
      PRIMARY KEY (kind, id)
    )`,
    `CREATE INDEX operations_stream_id ON operations (stream_id)`,
    `CREATE TABLE subscriptions (
      id TEXT PRIMARY KEY NOT NULL,
      main_key TEXT NOT NULL,
      amount BIGINT NOT NULL CHECK (amount >= 0),
      currency TEXT NOT NULL,
      recurrence TEXT NOT NULL,
      status TEXT NOT NULL,
      payments_made INTEGER NOT NULL DEFAULT 0,
      next_due ${time},
      data TEXT NOT NULL,
      created_at ${time} NOT NULL,
      updated_at ${time} NOT NULL
    )`,
    `CREATE INDEX subscriptions_main_key ON subscriptions (main_key)`,
    `CREATE INDEX subscriptions_next_due ON subscriptions (next_due)`,
    `CREATE TABLE relays (
      url TEXT PRIMARY KEY NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('added', 'removed')),
      position INTEGER NOT NULL,
      updated_at ${time} NOT NULL
    )`,
    `CREATE TABLE webhook_outbox (
      id ${serial},
      stream_id TEXT NOT NULL,
      idx INTEGER NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at ${time} NOT NULL,
      last_error TEXT,
      claimed_by TEXT,
      claimed_until ${time},
      created_at ${time} NOT NULL,
      updated_at ${time} NOT NULL,
      UNIQUE (stream_id, idx),
      FOREIGN KEY (stream_id, idx) REFERENCES stream_events (stream_id, idx) ON DELETE CASCADE
    )`,
    `CREATE INDEX webhook_outbox_pending ON webhook_outbox (next_attempt_at) WHERE status = 'pending'`,
    `CREATE TABLE seen_ids (
      scope TEXT NOT NULL,
      id TEXT NOT NULL,
      expires_at ${time} NOT NULL,
      PRIMARY KEY (scope, id)
    )`,
    `CREATE INDEX seen_ids_expires_at ON seen_ids (expires_at)`
  ]
}

const runAll = (dialect: "pg" | "sqlite") =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    for (const statement of statements(dialect)) {
      yield* sql.unsafe(statement).raw
    }
  })

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({ pg: () => runAll("pg"), orElse: () => runAll("sqlite") })
})

/** Every migration, keyed `<id>_<name>`. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_initial": initial
}

/** The number of migrations a fully migrated database has recorded. */
export const count = Object.keys(migrations).length

const migrator = Migrator.make({})

/**
 * Runs the pending migrations. PostgreSQL: the bookkeeping table is created with `IF NOT EXISTS` first, so that
 * instances starting together on a fresh database all reach the migrator's `LOCK TABLE`, which serialises them.
 */
export const run = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () =>
      sql
        .unsafe(
          `CREATE TABLE IF NOT EXISTS ${table} (
            migration_id integer primary key,
            created_at timestamp with time zone not null default now(),
            name text not null
          )`
        )
        .raw.pipe(Effect.retry({ times: 3 })),
    orElse: () => Effect.void
  })
  return yield* migrator({ loader: Migrator.fromRecord(migrations), table })
})
