/**
 * Durable state of the daemon. Backends: SQLite (`layerSqlite`, the embedded default; `layerMemory` for tests),
 * PostgreSQL (`layerPg`, several daemon instances on one database); `layerConfig` picks one from `database.*`.
 *
 * What it keeps: streams and their append-only events (gapless indexes from 0, appended atomically under
 * concurrency, tailed live with `events`), operation state for restart recovery, recurring subscriptions,
 * relays added at runtime, a webhook outbox, and seen ids (NIP-98 replay, relay-event dedup).
 *
 * - Migrations run when a layer is built and are idempotent.
 * - SQLite: one file, WAL, durable commits (an acknowledged write survives a process or machine crash: the WAL is
 *   flushed after each group of commits, on the thread pool rather than the event loop, before the writers are
 *   answered; a concurrent reader may see a commit during its flush), a busy timeout, foreign keys on, and an
 *   exclusive lock on the file: a second process on the same file fails to open it (differences.md §o: one daemon
 *   per file). Live tails are woken in-process.
 * - PostgreSQL: live tails are woken by `LISTEN/NOTIFY` (sent in the appending transaction, so only committed
 *   events are announced), backed by a poll (1 s by default) in case the listening connection drops.
 * - Retention: a background fiber removes finished streams older than `retention.maxAge` (default 30 days) and
 *   expired seen ids; open streams are never removed. Note: the reference keeps streams forever
 *   (rest-api.md §4.2); set `retention: false` (or `database.retention_days = 0`) for that.
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Internal from "./internal/store.js"
import * as WalSync from "./internal/walSync.js"
import type {
  AppendOptions,
  FinishedStatus,
  NewEvent,
  Operation,
  OperationInput,
  RelayEntry,
  StoredEvent,
  StreamInfo,
  StreamStatus,
  Subscription,
  SubscriptionInput,
  WebhookDelivery
} from "./Model.js"
import { StoreFailure } from "./StoreError.js"
import type { StreamAlreadyExists, StreamFinished, StreamNotFound } from "./StoreError.js"

/**
 * The store. Every method runs in its own transaction, or inside the caller's `transaction`.
 * @category models
 */
export interface Service {
  readonly backend: "sqlite" | "pg"

  // ---- streams and events -------------------------------------------------------------------------------

  /** Creates an `in_flight` stream with no events. */
  readonly createStream: (id: string, kind: string) => Effect.Effect<StreamInfo, StreamAlreadyExists | StoreFailure>
  /**
   * Creates the stream, or sets an existing one back to `in_flight` keeping its events, so indexes continue
   * (the fixed `recurring-payment-close` stream at every startup, rest-api.md §4.1).
   */
  readonly reopenStream: (id: string, kind: string) => Effect.Effect<StreamInfo, StoreFailure>
  readonly getStream: (id: string) => Effect.Effect<StreamInfo, StreamNotFound | StoreFailure>
  /** Streams by status and/or kind, oldest first (restart recovery lists the `in_flight` ones). */
  readonly listStreams: (filter?: {
    readonly status?: StreamStatus | undefined
    readonly kind?: string | undefined
  }) => Effect.Effect<ReadonlyArray<StreamInfo>, StoreFailure>
  /**
   * Appends an event with the next index (atomic and gapless under concurrency, also across instances), and
   * optionally finishes the stream and queues its webhook in the same transaction. Fails with `StreamFinished`
   * once the stream is finished: late events are not stored.
   */
  readonly append: (
    streamId: string,
    event: NewEvent,
    options?: AppendOptions
  ) => Effect.Effect<StoredEvent, StreamNotFound | StreamFinished | StoreFailure>
  /** Marks the stream finished. Finishing a finished stream changes nothing. */
  readonly finishStream: (
    streamId: string,
    status: FinishedStatus
  ) => Effect.Effect<StreamInfo, StreamNotFound | StoreFailure>
  /** Stored events with index > `after` (all when omitted), ascending (`GET /events/{id}?after=`). */
  readonly readEvents: (
    streamId: string,
    after?: number
  ) => Effect.Effect<ReadonlyArray<StoredEvent>, StreamNotFound | StoreFailure>
  /**
   * Live tail: the stored events with index > `after`, then each new one as it is committed, by any instance
   * on the same database; in index order, without gaps or duplicates. Ends after the last event of a finished
   * stream (or when the stream is removed); interrupt it to stop earlier. Fails with `StreamNotFound` when the
   * stream does not exist when it starts.
   */
  readonly events: (streamId: string, after?: number) => Stream.Stream<StoredEvent, StreamNotFound | StoreFailure>
  /** Removes finished streams that finished longer ago than `olderThan`, with their events. Returns how many. */
  readonly purgeFinishedStreams: (olderThan: Duration.DurationInput) => Effect.Effect<number, StoreFailure>

  // ---- operation state ----------------------------------------------------------------------------------

  /** Inserts or replaces (keeping owner and lease) the operation `(kind, id)`. */
  readonly putOperation: (input: OperationInput) => Effect.Effect<Operation, StoreFailure>
  /**
   * Inserts the operation unless `(kind, id)` exists; returns the stored one either way. Unique across
   * instances (one open stream per static token, differences.md §c).
   */
  readonly insertOperation: (
    input: OperationInput
  ) => Effect.Effect<{ readonly inserted: boolean; readonly operation: Operation }, StoreFailure>
  readonly getOperation: (kind: string, id: string) => Effect.Effect<Option.Option<Operation>, StoreFailure>
  /** Operations, of one kind or all, oldest first. */
  readonly listOperations: (kind?: string) => Effect.Effect<ReadonlyArray<Operation>, StoreFailure>
  /** The operations of one stream (any kind), oldest first. */
  readonly operationsOfStream: (streamId: string) => Effect.Effect<ReadonlyArray<Operation>, StoreFailure>
  /** Returns whether it existed. */
  readonly deleteOperation: (kind: string, id: string) => Effect.Effect<boolean, StoreFailure>
  /**
   * Leases every operation (of `kind`, when given) that has no owner, whose lease expired, or that `owner`
   * already holds, for `lease` from now; returns them. Call it periodically to renew and take over.
   */
  readonly claimOperations: (options: {
    readonly owner: string
    readonly lease: Duration.DurationInput
    readonly kind?: string | undefined
  }) => Effect.Effect<ReadonlyArray<Operation>, StoreFailure>
  /** Gives up every lease `owner` holds (graceful shutdown). */
  readonly releaseOperations: (owner: string) => Effect.Effect<void, StoreFailure>

  // ---- recurring subscriptions --------------------------------------------------------------------------

  /** Inserts or replaces the subscription `id` (keeping `createdAt`). */
  readonly putSubscription: (input: SubscriptionInput) => Effect.Effect<Subscription, StoreFailure>
  readonly getSubscription: (id: string) => Effect.Effect<Option.Option<Subscription>, StoreFailure>
  /** Subscriptions by status, main key, and/or due no later than `dueBefore`, by next due date. */
  readonly listSubscriptions: (filter?: {
    readonly status?: string | undefined
    readonly mainKey?: string | undefined
    readonly dueBefore?: DateTime.Utc | undefined
  }) => Effect.Effect<ReadonlyArray<Subscription>, StoreFailure>
  /** Counts one payment and sets the next due date, atomically. `None` when the id is unknown. */
  readonly recordSubscriptionPayment: (
    id: string,
    nextDue: Option.Option<DateTime.Utc>
  ) => Effect.Effect<Option.Option<Subscription>, StoreFailure>
  readonly deleteSubscription: (id: string) => Effect.Effect<boolean, StoreFailure>

  // ---- relays -------------------------------------------------------------------------------------------

  /** Records the relay as added (at the end of the added order, unless it is already added). */
  readonly addRelay: (url: string) => Effect.Effect<RelayEntry, StoreFailure>
  /** Records the relay as removed. */
  readonly removeRelay: (url: string) => Effect.Effect<RelayEntry, StoreFailure>
  /** Every recorded relay, by position. */
  readonly listRelays: Effect.Effect<ReadonlyArray<RelayEntry>, StoreFailure>

  // ---- webhook outbox -----------------------------------------------------------------------------------

  /** Queues the event's delivery (idempotent). `append(…, { webhook: true })` does this in its transaction. */
  readonly enqueueWebhook: (streamId: string, index: number) => Effect.Effect<void, StoreFailure>
  /**
   * Claims up to `limit` due deliveries for `lease`: for each stream only its lowest pending index, so event
   * N+1 is not attempted before N is delivered or dead, and one delivery per stream is in flight across
   * instances. Oldest due first.
   */
  readonly claimWebhooks: (options: {
    readonly owner: string
    readonly limit: number
    readonly lease: Duration.DurationInput
  }) => Effect.Effect<ReadonlyArray<WebhookDelivery>, StoreFailure>
  /** Counts a failed attempt, records the error and releases the claim until `nextAttemptAt`. */
  readonly markWebhookFailed: (
    id: number,
    failure: { readonly error: string; readonly nextAttemptAt: DateTime.Utc }
  ) => Effect.Effect<void, StoreFailure>
  /** Counts the successful attempt; the delivery is done. */
  readonly markWebhookDelivered: (id: number) => Effect.Effect<void, StoreFailure>
  /** Counts the last attempt and gives up; later events of the stream proceed. */
  readonly markWebhookDead: (id: number, error: string) => Effect.Effect<void, StoreFailure>
  /**
   * When `claimWebhooks` next has something to return (the earliest due time of a stream's first pending
   * delivery, or its claim's expiry), if anything is pending.
   */
  readonly nextWebhookDue: Effect.Effect<Option.Option<DateTime.Utc>, StoreFailure>

  // ---- seen ids -----------------------------------------------------------------------------------------

  /**
   * Remembers `id` in `scope` (e.g. `"nip98"`, `"relay-event"`) for `ttl`. Returns true the first time, false
   * while it is remembered; atomic across instances.
   */
  readonly markSeen: (scope: string, id: string, ttl: Duration.DurationInput) => Effect.Effect<boolean, StoreFailure>
  /** Forgets expired seen ids (the retention fiber does this too). */
  readonly purgeSeen: Effect.Effect<number, StoreFailure>

  // ---- transactions -------------------------------------------------------------------------------------

  /**
   * Runs `effect` (calls of this store) in one transaction: all or nothing, committed (durable) before it returns.
   * On SQLite, transactions and appends arriving together share one commit (group commit, each in its own
   * savepoint); if that shared commit fails, `effect` runs again in a transaction of its own, so it must not have
   * side effects outside the store. Inside another `transaction` it is a savepoint of it.
   */
  readonly transaction: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | StoreFailure>
}

/** @category tags */
export class Store extends Context.Tag("@portal/store/Store")<Store, Service>() {}

/**
 * Retention of finished streams: removed `maxAge` after they finished, checked every `interval` (1 hour).
 * @category options
 */
export interface RetentionOptions {
  readonly maxAge: Duration.DurationInput
  readonly interval?: Duration.DurationInput | undefined
}

/** @category options */
export const defaultRetention: RetentionOptions = { maxAge: Duration.days(30), interval: Duration.hours(1) }

/** @category options */
export interface SqliteOptions {
  /** A file path (its directory is created), or `":memory:"`. */
  readonly filename: string
  /** Default `defaultRetention`; `false` keeps finished streams forever. */
  readonly retention?: RetentionOptions | false | undefined
  /**
   * Default `"full"`: every acknowledged commit is on disk (the WAL is flushed after each commit, off the event loop,
   * before the writers are answered). `"normal"` survives process crashes only.
   */
  readonly synchronous?: "full" | "normal" | undefined
  /** How long to wait for a lock held by another connection. Default 5 s. */
  readonly busyTimeout?: Duration.DurationInput | undefined
}

/** @category options */
export interface PgOptions {
  /** `postgres://…` or `postgresql://…` (it may hold a password, so it stays redacted). */
  readonly url: Redacted.Redacted<string>
  readonly retention?: RetentionOptions | false | undefined
  /** Live tails re-check at least this often, in case a notification is lost. Default 1 s. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Pool size. Default 10. */
  readonly maxConnections?: number | undefined
}

const sqliteFailure = (cause: unknown) =>
  new StoreFailure({ backend: "sqlite", reason: "Open", op: "open", cause, detail: Internal.describe(cause) })

/**
 * Opens the SQLite store (creating and migrating the file as needed) for the lifetime of the scope.
 * @category constructors
 */
export const makeSqlite = (options: SqliteOptions): Effect.Effect<Service, StoreFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const memory = options.filename === ":memory:" || options.filename === ""
    if (!memory) {
      yield* Effect.try({
        try: () => NodeFs.mkdirSync(NodePath.dirname(NodePath.resolve(options.filename)), { recursive: true }),
        catch: sqliteFailure
      })
    }
    // WAL is switched on below, after the busy timeout, so that a file held by another process fails within
    // `busyTimeout` (better-sqlite3 would otherwise wait its own 5 s). better-sqlite3 throws synchronously:
    // those throws arrive here as defects and become a typed failure.
    const sql = yield* SqliteClient.make({ filename: options.filename, disableWAL: true }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make),
      Effect.catchAllDefect((defect) => Effect.fail(sqliteFailure(defect)))
    )
    const busy = Math.round(Duration.toMillis(options.busyTimeout ?? Duration.seconds(5)))
    const pragmas = [
      `PRAGMA busy_timeout = ${busy}`,
      ...(memory ? [] : ["PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL"]),
      "PRAGMA foreign_keys = ON",
      // `FULL` is `NORMAL` plus an fsync of the WAL in every commit, which the store does itself off the event
      // loop (`internal/walSync.ts`)
      "PRAGMA synchronous = NORMAL"
    ]
    for (const pragma of pragmas) {
      yield* sql.unsafe(pragma).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(defect)),
        Effect.mapError((cause) => {
          const detail = Internal.describe(cause)
          return /locked|busy/i.test(detail)
            ? new StoreFailure({
                backend: "sqlite",
                reason: "Open",
                op: "open",
                cause,
                detail: `${detail}: ${options.filename} is in use by another process (one daemon per SQLite file)`
              })
            : sqliteFailure(cause)
        })
      )
    }
    return yield* Internal.make({
      sql,
      backend: "sqlite",
      retention: options.retention === undefined ? defaultRetention : options.retention,
      pollInterval: Option.none(),
      listen: Option.none(),
      durable: memory || options.synchronous === "normal" ? undefined : yield* WalSync.make(`${options.filename}-wal`)
    })
  })

/**
 * Connects to PostgreSQL (migrating the database as needed) for the lifetime of the scope.
 * @category constructors
 */
export const makePg = (options: PgOptions): Effect.Effect<Service, StoreFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const pg = yield* PgClient.make({
      url: options.url,
      maxConnections: options.maxConnections ?? 10,
      applicationName: "portal-store"
    }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make),
      Effect.mapError(
        (cause) =>
          new StoreFailure({ backend: "pg", reason: "Open", op: "connect", cause, detail: Internal.describe(cause) })
      )
    )
    return yield* Internal.make({
      sql: pg,
      backend: "pg",
      retention: options.retention === undefined ? defaultRetention : options.retention,
      pollInterval: Option.some(Duration.decode(options.pollInterval ?? Duration.seconds(1))),
      listen: Option.some(pg.listen)
    })
  })

/**
 * SQLite in one file.
 * @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<Store, StoreFailure> =>
  Layer.scoped(Store, makeSqlite(options))

/**
 * PostgreSQL.
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<Store, StoreFailure> => Layer.scoped(Store, makePg(options))

/**
 * A real store in memory (SQLite `:memory:`): for tests and development. Each build is a new, empty database.
 * @category layers
 */
export const layerMemory: Layer.Layer<Store, StoreFailure> = layerSqlite({ filename: ":memory:", retention: false })

/** Whether `url` selects PostgreSQL. @category config */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//i.test(url.trim())

/**
 * The `database` settings (rest-api.md §7, differences.md §o): `url` (`PORTAL__DATABASE__URL`; a `postgres://`
 * URL selects PostgreSQL), `path` (`PORTAL__DATABASE__PATH`, default `portal-rest.db`, relative to the data
 * directory), `retention_days` (`PORTAL__DATABASE__RETENTION_DAYS`, default 30; 0 keeps finished streams
 * forever).
 * @category config
 */
export const config: Config.Config<{
  readonly url: Option.Option<Redacted.Redacted<string>>
  readonly path: string
  readonly retentionDays: number
}> = Config.all({
  url: Config.option(Config.redacted("url")),
  path: Config.withDefault(Config.string("path"), "portal-rest.db"),
  retentionDays: Config.withDefault(Config.integer("retention_days"), 30).pipe(
    Config.validate({ message: "expected a whole number of days ≥ 0", validation: (n) => n >= 0 })
  )
}).pipe(Config.nested("database"))

/**
 * PostgreSQL when `database.url` is set (and non-empty), otherwise SQLite at `database.path` under
 * `dataDirectory`. A `database.url` that is not `postgres://`/`postgresql://` is a config error.
 * @category layers
 */
export const layerConfig = (options: {
  readonly dataDirectory: string | Config.Config<string>
}): Layer.Layer<Store, StoreFailure | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const settings = yield* config
      const dataDirectory =
        typeof options.dataDirectory === "string" ? options.dataDirectory : yield* options.dataDirectory
      const retention: RetentionOptions | false =
        settings.retentionDays === 0 ? false : { ...defaultRetention, maxAge: Duration.days(settings.retentionDays) }
      const url = settings.url.pipe(Option.filter((url) => Redacted.value(url).trim() !== ""))
      if (Option.isSome(url)) {
        if (!isPostgresUrl(Redacted.value(url.value))) {
          return yield* Effect.fail(
            ConfigError.InvalidData(["database", "url"], "expected a postgres:// or postgresql:// URL")
          )
        }
        return layerPg({ url: url.value, retention })
      }
      const filename = settings.path === ":memory:" ? settings.path : NodePath.resolve(dataDirectory, settings.path)
      return layerSqlite({ filename, retention })
    })
  )
