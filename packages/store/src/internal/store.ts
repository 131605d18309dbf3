/**
 * The store over an `@effect/sql` client: one implementation for both dialects. The few differences are
 * explicit: `FOR UPDATE SKIP LOCKED` and `pg_notify` on PostgreSQL; on SQLite reads run in a transaction too,
 * because its client shares one connection and a read outside a transaction could see another fiber's
 * uncommitted writes.
 *
 * Gapless indexes: `append` increments `streams.next_index` with an `UPDATE … RETURNING` in the statement or
 * transaction that inserts the event (on PostgreSQL one `WITH … UPDATE … INSERT …` statement, so the row is
 * locked for a single round trip). The row lock (PostgreSQL) or the single writer (SQLite) serialises appends
 * to one stream, and a rollback undoes the increment, so indexes never skip or repeat.
 *
 * Live tails: a tail registers a one-slot signal for its stream before reading, reads what is stored after
 * its cursor, and waits for the signal when it has caught up. Commits signal in-process; on PostgreSQL the
 * appending transaction also sends `NOTIFY`, delivered to every instance's listener, and tails re-check every
 * `pollInterval` in case a notification was lost. A signal only means "read again", so a lost or duplicate
 * signal cannot reorder, skip or repeat events.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import {
  JsonObject,
  Operation,
  RelayEntry,
  StoredEvent,
  StreamInfo,
  StreamStatus,
  Subscription,
  WebhookDelivery
} from "../Model.js"
import type { AppendOptions, FinishedStatus, NewEvent, OperationInput, SubscriptionInput } from "../Model.js"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import type { RetentionOptions, Service } from "../Store.js"
import { StoreFailure, StreamAlreadyExists, StreamFinished, StreamNotFound } from "../StoreError.js"
import * as Migrations from "./migrations.js"

/** The PostgreSQL notification channel; payloads are `e:<stream id>` (events) or `p:<token>` (listener ping). */
export const channel = "portal_store_events"

export interface MakeOptions {
  readonly sql: SqlClient.SqlClient
  readonly backend: "sqlite" | "pg"
  readonly retention: RetentionOptions | false
  readonly pollInterval: Option.Option<Duration.Duration>
  /** PostgreSQL's `LISTEN` (`PgClient.listen`). */
  readonly listen: Option.Option<(channel: string) => Stream.Stream<string, SqlError>>
  /**
   * Makes every commit so far durable, when commits are not durable by themselves (SQLite with
   * `synchronous=NORMAL` and the WAL flushed by the store, `walSync.ts`): writers are answered after it.
   */
  readonly durable?: Effect.Effect<void, SqlError> | undefined
}

/** A short description of a failure for `StoreFailure.detail`: the driver's message, never a URL. */
export const describe = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 3; depth++) {
    if (Predicate.hasProperty(current, "message") && typeof current.message === "string" && current.message !== "") {
      if (!parts.includes(current.message)) parts.push(current.message)
    }
    if (!Predicate.hasProperty(current, "cause")) break
    current = current.cause
  }
  if (parts.length === 0 && typeof cause === "string") parts.push(cause)
  return parts.join(": ").replace(/postgres(ql)?:\/\/\S*/gi, "<url>")
}

// ---- row schemas: what the drivers return. PostgreSQL returns BIGINT as a string, SQLite as a number. --------

/** Values built from decoded rows are valid by construction: skip the class constructors' re-validation. */
const trusted = { disableValidation: true } as const

const DbInt = Schema.Union(Schema.Int, Schema.compose(Schema.NumberFromString, Schema.Int))
const DbTime = Schema.compose(DbInt, Schema.DateTimeUtcFromNumber)
const DbTimeOption = Schema.OptionFromNullOr(DbTime)
const JsonText = Schema.parseJson()
const JsonObjectText = Schema.parseJson(JsonObject)

const StreamRow = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  status: StreamStatus,
  next_index: DbInt,
  created_at: DbTime,
  updated_at: DbTime,
  finished_at: DbTimeOption
})
const toStreamInfo = (row: typeof StreamRow.Type) =>
  new StreamInfo(
    {
      id: row.id,
      kind: row.kind,
      status: row.status,
      eventCount: row.next_index,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      finishedAt: row.finished_at
    },
    trusted
  )

const EventRow = Schema.Struct({
  stream_id: Schema.String,
  idx: DbInt,
  created_at: DbTime,
  type: Schema.String,
  data: JsonObjectText
})
const toStoredEvent = (row: typeof EventRow.Type) =>
  new StoredEvent({
    streamId: row.stream_id,
    index: row.idx,
    timestamp: row.created_at,
    type: row.type,
    data: row.data
  })

const OperationRow = Schema.Struct({
  kind: Schema.String,
  id: Schema.String,
  stream_id: Schema.OptionFromNullOr(Schema.String),
  payload: JsonText,
  deadline: DbTimeOption,
  owner: Schema.OptionFromNullOr(Schema.String),
  lease_until: DbTimeOption,
  created_at: DbTime,
  updated_at: DbTime
})
const toOperation = (row: typeof OperationRow.Type) =>
  new Operation(
    {
      kind: row.kind,
      id: row.id,
      streamId: row.stream_id,
      payload: row.payload,
      deadline: row.deadline,
      owner: row.owner,
      leaseUntil: row.lease_until,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    },
    trusted
  )

const SubscriptionRow = Schema.Struct({
  id: Schema.String,
  main_key: PublicKeyHex,
  amount: DbInt,
  currency: Schema.String,
  recurrence: JsonText,
  status: Schema.String,
  payments_made: DbInt,
  next_due: DbTimeOption,
  data: JsonText,
  created_at: DbTime,
  updated_at: DbTime
})
const toSubscription = (row: typeof SubscriptionRow.Type) =>
  new Subscription({
    id: row.id,
    mainKey: row.main_key,
    amount: row.amount,
    currency: row.currency,
    recurrence: row.recurrence,
    status: row.status,
    paymentsMade: row.payments_made,
    nextDue: row.next_due,
    data: row.data,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  })

const RelayRow = Schema.Struct({
  url: Schema.String,
  state: Schema.Literal("added", "removed"),
  position: DbInt,
  updated_at: DbTime
})
const toRelay = (row: typeof RelayRow.Type) =>
  new RelayEntry({ url: row.url, state: row.state, position: row.position, updatedAt: row.updated_at })

const WebhookRow = Schema.Struct({
  id: DbInt,
  stream_id: Schema.String,
  idx: DbInt,
  status: Schema.Literal("pending", "delivered", "dead"),
  attempts: DbInt,
  next_attempt_at: DbTime,
  last_error: Schema.OptionFromNullOr(Schema.String),
  created_at: DbTime,
  event_created_at: DbTime,
  type: Schema.String,
  data: JsonObjectText
})
const toWebhook = (row: typeof WebhookRow.Type) =>
  new WebhookDelivery({
    id: row.id,
    event: new StoredEvent({
      streamId: row.stream_id,
      index: row.idx,
      timestamp: row.event_created_at,
      type: row.type,
      data: row.data
    }),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at
  })

const IndexRow = Schema.Struct({ next_index: DbInt })
const StatusRow = Schema.Struct({ status: StreamStatus })
const IdRow = Schema.Struct({ id: DbInt })
const AnyRow = Schema.Struct({})
const DueRow = Schema.Struct({ due: DbTimeOption })

/** A decoder of result rows, compiled once (call at module level, not per query). */
const rowsDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknown(Schema.Array(schema))
  return (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>, ParseResult.ParseError> => decode(rows)
}
const decodeStreams = rowsDecoder(StreamRow)
const decodeEvents = rowsDecoder(EventRow)
const decodeOperations = rowsDecoder(OperationRow)
const decodeSubscriptions = rowsDecoder(SubscriptionRow)
const decodeRelays = rowsDecoder(RelayRow)
const decodeWebhooks = rowsDecoder(WebhookRow)
const decodeIndexes = rowsDecoder(IndexRow)
const decodeStatuses = rowsDecoder(StatusRow)
const decodeIds = rowsDecoder(IdRow)
const decodeAny = rowsDecoder(AnyRow)
const decodeDue = rowsDecoder(DueRow)

const BATCH = 1000

const isStreamError = (error: unknown): error is StreamNotFound | StreamFinished =>
  error instanceof StreamNotFound || error instanceof StreamFinished

const millis = (input: Duration.DurationInput) => Math.round(Duration.toMillis(Duration.decode(input)))

/** The errors of `E` a caller sees: everything but the driver's and the decoder's. */
type Domain<E> = Exclude<E, SqlError | ParseResult.ParseError>
const isDomain = <E>(error: E): error is Domain<E> => !(error instanceof SqlError) && !ParseResult.isParseError(error)

/** Builds the service over a connected client; runs the migrations first. */
export const make = (options: MakeOptions): Effect.Effect<Service, StoreFailure, Scope.Scope> =>
  Effect.gen(function* () {
    const { sql, backend } = options
    const pg = backend === "pg"

    const failure = (op: string, reason: StoreFailure["reason"]) => (cause: unknown) =>
      new StoreFailure({ backend, reason, op, cause, detail: describe(cause) })

    /** Maps driver and decoding errors of `op` to `StoreFailure`, leaving domain errors alone. */
    const mapErrors =
      (op: string) =>
      <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Domain<E> | StoreFailure, R> =>
        Effect.mapError(effect, (error) =>
          isDomain(error)
            ? error
            : error instanceof SqlError
              ? failure(op, "Query")(error)
              : failure(op, "Decode")(error)
        )

    const encodeJson = (op: string, value: unknown): Effect.Effect<string, StoreFailure> =>
      Effect.try({
        try: () => {
          const text = JSON.stringify(value)
          if (typeof text !== "string") throw new TypeError(`expected a JSON value, got ${typeof value}`)
          return text
        },
        catch: failure(op, "Encode")
      })

    const durable = options.durable
    /** Whether the current fiber is inside a transaction (the caller's `transaction`, or a batch). */
    const inTransaction = Effect.map(Effect.serviceOption(SqlClient.TransactionConnection), Option.isSome)
    /**
     * Writes: one transaction (a savepoint inside the caller's `transaction`, whose commit makes it durable); the
     * writer is answered once its commit is on disk.
     */
    const tx = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      durable === undefined
        ? sql.withTransaction(effect)
        : Effect.flatMap(inTransaction, (nested) =>
            nested ? sql.withTransaction(effect) : Effect.zipLeft(sql.withTransaction(effect), durable)
          )
    /** Reads: serialised with writes on SQLite's single connection; plain statements on PostgreSQL. */
    const read = <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, E | SqlError, R> =>
      pg ? effect : sql.withTransaction(effect)

    const now = Clock.currentTimeMillis

    yield* Migrations.run.pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      Effect.catchAllDefect((defect) => Effect.fail(defect)),
      Effect.mapError(failure("migrate", "Migrate"))
    )

    // ---- wake-ups of live tails ----------------------------------------------------------------------------

    const watchers = new Map<string, Set<Queue.Queue<void>>>()
    const wake = (streamId: string) =>
      Effect.sync(() => {
        const set = watchers.get(streamId)
        if (set !== undefined) for (const signal of set) signal.unsafeOffer(undefined)
      })
    const watch = (streamId: string, signal: Queue.Queue<void>) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const set = watchers.get(streamId) ?? new Set()
          set.add(signal)
          watchers.set(streamId, set)
        }),
        () =>
          Effect.sync(() => {
            const set = watchers.get(streamId)
            set?.delete(signal)
            if (set?.size === 0) watchers.delete(streamId)
          })
      )
    /** Inside the writing transaction: PostgreSQL delivers it to every listener when (and if) it commits. */
    const announce = (streamId: string) =>
      pg ? sql`SELECT pg_notify(${channel}, ${`e:${streamId}`})`.pipe(Effect.asVoid) : Effect.void

    if (Option.isSome(options.listen)) {
      const listen = options.listen.value
      const token = (yield* Random.nextInt).toString(36) + (yield* Clock.currentTimeMillis).toString(36)
      const ready = yield* Deferred.make<void>()
      yield* listen(channel).pipe(
        Stream.runForEach((payload) =>
          payload.startsWith("e:")
            ? wake(payload.slice(2))
            : payload === `p:${token}`
              ? Deferred.succeed(ready, undefined)
              : Effect.void
        ),
        Effect.catchAll((error) => Effect.logWarning("store: LISTEN failed; retrying", error)),
        Effect.zipRight(Effect.sleep("1 second")),
        Effect.forever,
        Effect.forkScoped
      )
      // Confirm the listener is live before the store is handed out, so no commit after startup goes unseen.
      // (`PgClient.notify` sends `NOTIFY ch, $1`, which PostgreSQL rejects: parameters need pg_notify.)
      // Ping every 20 ms until one comes back (or 10 s pass).
      const ping = sql`SELECT pg_notify(${channel}, ${`p:${token}`})`.pipe(
        Effect.zipRight(Effect.sleep("20 millis")),
        Effect.forever
      )
      yield* Effect.raceFirst(Deferred.await(ready), ping).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "LISTEN did not start within 10 s" }),
        Effect.mapError(failure("listen", "Open"))
      )
    }

    // ---- streams -------------------------------------------------------------------------------------------

    const selectStream = (id: string) =>
      sql`SELECT * FROM streams WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeStreams),
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toStreamInfo))
      )

    const getStream = (id: string) =>
      read(selectStream(id)).pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.fail(new StreamNotFound({ streamId: id })), onSome: Effect.succeed })
        ),
        mapErrors("getStream")
      )

    const createStream = (id: string, kind: string) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const rows = yield* sql`INSERT INTO streams (id, kind, status, next_index, created_at, updated_at)
            VALUES (${id}, ${kind}, 'in_flight', 0, ${t}, ${t})
            ON CONFLICT (id) DO NOTHING RETURNING *`.pipe(Effect.flatMap(decodeStreams))
          if (rows.length === 0) return yield* new StreamAlreadyExists({ streamId: id })
          return toStreamInfo(rows[0]!)
        })
      ).pipe(mapErrors("createStream"))

    const reopenStream = (id: string, kind: string) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const rows = yield* sql`INSERT INTO streams (id, kind, status, next_index, created_at, updated_at)
            VALUES (${id}, ${kind}, 'in_flight', 0, ${t}, ${t})
            ON CONFLICT (id) DO UPDATE SET status = 'in_flight', finished_at = NULL, updated_at = excluded.updated_at
            RETURNING *`.pipe(Effect.flatMap(decodeStreams))
          return toStreamInfo(rows[0]!)
        })
      ).pipe(mapErrors("reopenStream"))

    const listStreams: Service["listStreams"] = (filter = {}) =>
      read(
        sql`SELECT * FROM streams WHERE ${sql.and([
          ...(filter.status === undefined ? [] : [sql`status = ${filter.status}`]),
          ...(filter.kind === undefined ? [] : [sql`kind = ${filter.kind}`])
        ])} ORDER BY created_at, id`.pipe(Effect.flatMap(decodeStreams))
      ).pipe(
        Effect.map((rows) => rows.map(toStreamInfo)),
        mapErrors("listStreams")
      )

    const notAppendable = (streamId: string) =>
      sql`SELECT status FROM streams WHERE id = ${streamId}`.pipe(
        Effect.flatMap(decodeStatuses),
        Effect.flatMap((rows): Effect.Effect<never, StreamNotFound | StreamFinished> =>
          rows.length === 0
            ? Effect.fail(new StreamNotFound({ streamId }))
            : Effect.fail(
                new StreamFinished({ streamId, status: rows[0]!.status === "failed" ? "failed" : "completed" })
              )
        )
      )

    const insertOutbox = (streamId: string, index: number, t: number) =>
      sql`INSERT INTO webhook_outbox (stream_id, idx, status, attempts, next_attempt_at, created_at, updated_at)
        VALUES (${streamId}, ${index}, 'pending', 0, ${t}, ${t}, ${t})
        ON CONFLICT (stream_id, idx) DO NOTHING`

    /** The body of one append; runs inside a transaction (its own, a batch's savepoint, or the caller's). */
    const appendIn = (streamId: string, event: NewEvent, text: string, data: JsonObject, options: AppendOptions) =>
      Effect.gen(function* () {
        const t = yield* now
        const finish = options.finish
        const done = (index: number) =>
          new StoredEvent({ streamId, index, timestamp: DateTime.unsafeMake(t), type: event.type, data }, trusted)
        const setFinished = finish === undefined ? sql.literal("") : sql`, status = ${finish}, finished_at = ${t}`
        if (pg) {
          // One statement, so the stream row stays locked for one round trip, not a whole transaction's.
          const rows = yield* sql`WITH s AS (
              UPDATE streams SET next_index = next_index + 1, updated_at = ${t}${setFinished}
              WHERE id = ${streamId} AND status = 'in_flight' RETURNING next_index - 1 AS idx
            ), e AS (
              INSERT INTO stream_events (stream_id, idx, created_at, type, data)
              SELECT ${streamId}, idx, ${t}, ${event.type}, ${text} FROM s RETURNING idx
            ), o AS (
              INSERT INTO webhook_outbox (stream_id, idx, status, attempts, next_attempt_at, created_at, updated_at)
              SELECT ${streamId}, idx, 'pending', 0, ${t}, ${t}, ${t} FROM e WHERE ${options.webhook === true}
              ON CONFLICT (stream_id, idx) DO NOTHING
            )
            SELECT idx AS next_index, pg_notify(${channel}, ${`e:${streamId}`}) FROM e`.pipe(
            Effect.flatMap(decodeIndexes)
          )
          if (rows.length === 0) return yield* notAppendable(streamId)
          return done(rows[0]!.next_index)
        }
        const updated = yield* sql`UPDATE streams SET next_index = next_index + 1, updated_at = ${t}${setFinished}
          WHERE id = ${streamId} AND status = 'in_flight' RETURNING next_index`.pipe(Effect.flatMap(decodeIndexes))
        if (updated.length === 0) return yield* notAppendable(streamId)
        const index = updated[0]!.next_index - 1
        yield* sql`INSERT INTO stream_events (stream_id, idx, created_at, type, data)
          VALUES (${streamId}, ${index}, ${t}, ${event.type}, ${text})`
        if (options.webhook === true) yield* insertOutbox(streamId, index, t)
        return done(index)
      })

    interface Pending {
      /** Runs inside the batch's transaction; gives how to answer the caller once the batch has committed. */
      readonly inBatch: Effect.Effect<Effect.Effect<void>, unknown>
      /** Runs the item in a transaction of its own and answers the caller (after a batch failed as a whole). */
      readonly alone: Effect.Effect<void>
      /** Answers the caller with a failure: the store closed before the item ran, or its commit is not on disk. */
      readonly fail: (error: SqlError) => Effect.Effect<void>
    }

    /**
     * SQLite group commit: every commit waits for the disk (the WAL's flush, `durable`), so writes (appends and
     * `transaction`s) that arrive while one batch commits are written together in the next transaction, and each
     * caller is answered only after that transaction is on disk: durability per acknowledged write is unchanged,
     * the disk waits are shared. An append to a stream that is missing or finished fails before it writes
     * anything, and a `transaction` runs in a savepoint of its own that its failure rolls back, so neither affects
     * the rest of the batch; any other failure (of the commit itself, say) rolls the batch back and its items are
     * retried one transaction each, so one bad item cannot fail the others. A failed flush fails the batch's
     * callers (the batch did commit, so nothing is retried).
     */
    const batched = pg
      ? Option.none<
          <A, E>(
            inBatch: Effect.Effect<Exit.Exit<A, E>, unknown>,
            alone: Effect.Effect<A, E>
          ) => Effect.Effect<A, E | SqlError>
        >()
      : yield* Effect.gen(function* () {
          const queue = yield* Queue.unbounded<Pending>()
          const closed = new SqlError({ message: "store closed" })
          const commit = (items: ReadonlyArray<Pending>) =>
            sql.withTransaction(Effect.forEach(items, (item) => item.inBatch)).pipe(
              Effect.matchCauseEffect({
                onFailure: () => Effect.forEach(items, (item) => item.alone, { discard: true }),
                onSuccess: (answers) =>
                  Effect.matchEffect(durable ?? Effect.void, {
                    onFailure: (error) => Effect.forEach(items, (item) => item.fail(error), { discard: true }),
                    onSuccess: () => Effect.all(answers, { discard: true })
                  })
              })
            )
          yield* Effect.uninterruptibleMask((restore) =>
            restore(Queue.takeBetween(queue, 1, 512)).pipe(
              Effect.flatMap((items) => commit(Chunk.toReadonlyArray(items)))
            )
          ).pipe(
            Effect.forever,
            Effect.ensuring(
              Queue.takeAll(queue).pipe(Effect.flatMap((items) => Effect.forEach(items, (item) => item.fail(closed))))
            ),
            Effect.forkScoped
          )
          return Option.some(<A, E>(inBatch: Effect.Effect<Exit.Exit<A, E>, unknown>, alone: Effect.Effect<A, E>) =>
            Effect.gen(function* () {
              const done = yield* Deferred.make<A, E | SqlError>()
              yield* Queue.offer(queue, {
                inBatch: Effect.map(inBatch, (exit) => Deferred.done(done, exit)),
                alone: Effect.flatMap(Effect.exit(alone), (exit) => Deferred.done(done, exit)),
                fail: (error) => Deferred.fail(done, error)
              })
              return yield* Deferred.await(done)
            })
          )
        })

    const append: Service["append"] = (streamId, event, appendOptions = {}) =>
      Effect.gen(function* () {
        const text = yield* encodeJson("append", event.data)
        const data = yield* Schema.decode(JsonObjectText)(text)
        const body = appendIn(streamId, event, text, data, appendOptions)
        const stored = yield* Option.isSome(batched) && !(yield* inTransaction)
          ? batched.value(
              body.pipe(
                Effect.map(Exit.succeed),
                Effect.catchIf(isStreamError, (error) => Effect.succeed(Exit.fail(error)))
              ),
              tx(body)
            )
          : pg
            ? body
            : tx(body)
        yield* wake(streamId)
        return stored
      }).pipe(mapErrors("append"))

    const finishStream = (streamId: string, status: FinishedStatus) =>
      Effect.gen(function* () {
        const info = yield* tx(
          Effect.gen(function* () {
            const t = yield* now
            const rows = yield* sql`UPDATE streams SET status = ${status}, finished_at = ${t}, updated_at = ${t}
              WHERE id = ${streamId} AND status = 'in_flight' RETURNING *`.pipe(Effect.flatMap(decodeStreams))
            if (rows.length > 0) {
              yield* announce(streamId)
              return toStreamInfo(rows[0]!)
            }
            const current = yield* selectStream(streamId)
            if (Option.isNone(current)) return yield* new StreamNotFound({ streamId })
            return current.value
          })
        )
        yield* wake(streamId)
        return info
      }).pipe(mapErrors("finishStream"))

    const selectEvents = (streamId: string, after: number, limit: number | undefined) =>
      (limit === undefined
        ? sql`SELECT stream_id, idx, created_at, type, data FROM stream_events
            WHERE stream_id = ${streamId} AND idx > ${after} ORDER BY idx`
        : sql`SELECT stream_id, idx, created_at, type, data FROM stream_events
            WHERE stream_id = ${streamId} AND idx > ${after} ORDER BY idx LIMIT ${limit}`
      ).pipe(
        Effect.flatMap(decodeEvents),
        Effect.map((rows) => rows.map(toStoredEvent))
      )

    /** The stream row first, then its events: if the row says finished, the events read after it are all. */
    const snapshot = (streamId: string, after: number, limit: number | undefined) =>
      read(
        Effect.gen(function* () {
          const stream = yield* selectStream(streamId)
          if (Option.isNone(stream)) return { stream, events: [] as ReadonlyArray<StoredEvent> }
          return { stream, events: yield* selectEvents(streamId, after, limit) }
        })
      )

    const readEvents = (streamId: string, after = -1) =>
      snapshot(streamId, after, undefined).pipe(
        Effect.flatMap(({ events, stream }) =>
          Option.isNone(stream) ? Effect.fail(new StreamNotFound({ streamId })) : Effect.succeed(events)
        ),
        mapErrors("readEvents")
      )

    const events = (streamId: string, after = -1): Stream.Stream<StoredEvent, StreamNotFound | StoreFailure> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const signal = yield* Queue.sliding<void>(1)
          yield* watch(streamId, signal)
          const waitForSignal = Option.match(options.pollInterval, {
            onNone: () => Queue.take(signal),
            onSome: (interval) => Effect.asVoid(Effect.timeoutOption(Queue.take(signal), interval))
          })
          let cursor = after
          let started = false
          const pull: Effect.Effect<
            Chunk.Chunk<StoredEvent>,
            Option.Option<StreamNotFound | StoreFailure>
          > = Effect.gen(function* () {
            while (true) {
              const { events, stream } = yield* snapshot(streamId, cursor, BATCH).pipe(mapErrors("events"))
              if (Option.isNone(stream)) {
                if (started) return yield* Effect.fail(Option.none())
                return yield* Effect.fail(Option.some(new StreamNotFound({ streamId })))
              }
              started = true
              if (events.length > 0) {
                cursor = events[events.length - 1]!.index
                return Chunk.unsafeFromArray(events)
              }
              if (stream.value.finished && cursor >= stream.value.eventCount - 1)
                return yield* Effect.fail(Option.none())
              yield* waitForSignal
            }
          }).pipe(Effect.mapError((error) => (Option.isOption(error) ? error : Option.some(error))))
          return Stream.repeatEffectChunkOption(pull)
        })
      )

    const purgeFinishedStreams = (olderThan: Duration.DurationInput) =>
      tx(
        Effect.gen(function* () {
          const cutoff = (yield* now) - millis(olderThan)
          const rows = yield* sql`DELETE FROM streams
            WHERE status <> 'in_flight' AND finished_at IS NOT NULL AND finished_at < ${cutoff}
            RETURNING id`
          return rows.length
        })
      ).pipe(mapErrors("purgeFinishedStreams"))

    // ---- operations ----------------------------------------------------------------------------------------

    const operationValues = (op: string, input: OperationInput) =>
      Effect.gen(function* () {
        const payload = yield* encodeJson(op, input.payload)
        const t = yield* now
        const deadline = input.deadline === undefined ? null : DateTime.toEpochMillis(input.deadline)
        const owner = input.lease?.owner ?? null
        const leaseUntil = input.lease === undefined ? null : t + millis(input.lease.duration)
        return { payload, t, deadline, streamId: input.streamId ?? null, owner, leaseUntil }
      })

    const putOperation = (input: OperationInput) =>
      Effect.gen(function* () {
        const v = yield* operationValues("putOperation", input)
        const rows = yield* tx(
          sql`INSERT INTO operations (kind, id, stream_id, payload, deadline, owner, lease_until, created_at, updated_at)
            VALUES (${input.kind}, ${input.id}, ${v.streamId}, ${v.payload}, ${v.deadline}, ${v.owner}, ${v.leaseUntil},
              ${v.t}, ${v.t})
            ON CONFLICT (kind, id) DO UPDATE SET stream_id = excluded.stream_id, payload = excluded.payload,
              deadline = excluded.deadline, updated_at = excluded.updated_at
            RETURNING *`.pipe(Effect.flatMap(decodeOperations))
        )
        return toOperation(rows[0]!)
      }).pipe(mapErrors("putOperation"))

    const selectOperation = (kind: string, id: string) =>
      sql`SELECT * FROM operations WHERE kind = ${kind} AND id = ${id}`.pipe(
        Effect.flatMap(decodeOperations),
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toOperation))
      )

    const insertOperation = (input: OperationInput) =>
      Effect.gen(function* () {
        const v = yield* operationValues("insertOperation", input)
        return yield* tx(
          Effect.gen(function* () {
            const rows =
              yield* sql`INSERT INTO operations (kind, id, stream_id, payload, deadline, owner, lease_until, created_at, updated_at)
              VALUES (${input.kind}, ${input.id}, ${v.streamId}, ${v.payload}, ${v.deadline}, ${v.owner}, ${v.leaseUntil},
                ${v.t}, ${v.t})
              ON CONFLICT (kind, id) DO NOTHING
              RETURNING *`.pipe(Effect.flatMap(decodeOperations))
            if (rows.length > 0) return { inserted: true, operation: toOperation(rows[0]!) }
            const existing = yield* selectOperation(input.kind, input.id)
            if (Option.isNone(existing)) {
              return yield* Effect.fail(failure("insertOperation", "Query")("conflicting row vanished; retry"))
            }
            return { inserted: false, operation: existing.value }
          })
        )
      }).pipe(mapErrors("insertOperation"))

    const getOperation = (kind: string, id: string) => read(selectOperation(kind, id)).pipe(mapErrors("getOperation"))

    const listOperations = (kind?: string) =>
      read(
        (kind === undefined
          ? sql`SELECT * FROM operations ORDER BY created_at, kind, id`
          : sql`SELECT * FROM operations WHERE kind = ${kind} ORDER BY created_at, id`
        ).pipe(Effect.flatMap(decodeOperations))
      ).pipe(
        Effect.map((rows) => rows.map(toOperation)),
        mapErrors("listOperations")
      )

    const operationsOfStream = (streamId: string) =>
      read(
        sql`SELECT * FROM operations WHERE stream_id = ${streamId} ORDER BY created_at, kind, id`.pipe(
          Effect.flatMap(decodeOperations)
        )
      ).pipe(
        Effect.map((rows) => rows.map(toOperation)),
        mapErrors("operationsOfStream")
      )

    const deleteOperation = (kind: string, id: string) =>
      tx(sql`DELETE FROM operations WHERE kind = ${kind} AND id = ${id} RETURNING id`).pipe(
        Effect.map((rows) => rows.length > 0),
        mapErrors("deleteOperation")
      )

    const claimOperations: Service["claimOperations"] = ({ kind, lease, owner }) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const until = t + millis(lease)
          return yield* sql`UPDATE operations SET owner = ${owner}, lease_until = ${until}
            WHERE ${sql.and([
              sql`(owner IS NULL OR owner = ${owner} OR lease_until IS NULL OR lease_until <= ${t})`,
              ...(kind === undefined ? [] : [sql`kind = ${kind}`])
            ])}
            RETURNING *`.pipe(Effect.flatMap(decodeOperations))
        })
      ).pipe(
        Effect.map((rows) => rows.map(toOperation)),
        mapErrors("claimOperations")
      )

    const releaseOperations = (owner: string) =>
      tx(sql`UPDATE operations SET owner = NULL, lease_until = NULL WHERE owner = ${owner}`).pipe(
        Effect.asVoid,
        mapErrors("releaseOperations")
      )

    // ---- subscriptions -------------------------------------------------------------------------------------

    const putSubscription = (input: SubscriptionInput) =>
      Effect.gen(function* () {
        const recurrence = yield* encodeJson("putSubscription", input.recurrence)
        const data = yield* encodeJson("putSubscription", input.data ?? {})
        const t = yield* now
        const nextDue = input.nextDue === undefined ? null : DateTime.toEpochMillis(input.nextDue)
        const paymentsMade =
          input.paymentsMade === undefined
            ? sql.literal("subscriptions.payments_made")
            : sql.literal("excluded.payments_made")
        const keep = input.keepStatus ?? []
        const status =
          keep.length === 0
            ? sql.literal("excluded.status")
            : sql`CASE WHEN subscriptions.status IN ${sql.in(keep)} THEN subscriptions.status ELSE excluded.status END`
        const rows = yield* tx(
          sql`INSERT INTO subscriptions
              (id, main_key, amount, currency, recurrence, status, payments_made, next_due, data, created_at, updated_at)
            VALUES (${input.id}, ${input.mainKey}, ${input.amount}, ${input.currency}, ${recurrence}, ${input.status},
              ${input.paymentsMade ?? 0}, ${nextDue}, ${data}, ${t}, ${t})
            ON CONFLICT (id) DO UPDATE SET main_key = excluded.main_key, amount = excluded.amount,
              currency = excluded.currency, recurrence = excluded.recurrence, status = ${status},
              payments_made = ${paymentsMade}, next_due = excluded.next_due, data = excluded.data,
              updated_at = excluded.updated_at
            RETURNING *`.pipe(Effect.flatMap(decodeSubscriptions))
        )
        return toSubscription(rows[0]!)
      }).pipe(mapErrors("putSubscription"))

    const getSubscription = (id: string) =>
      read(sql`SELECT * FROM subscriptions WHERE id = ${id}`.pipe(Effect.flatMap(decodeSubscriptions))).pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toSubscription)),
        mapErrors("getSubscription")
      )

    const listSubscriptions: Service["listSubscriptions"] = (filter = {}) =>
      read(
        sql`SELECT * FROM subscriptions WHERE ${sql.and([
          ...(filter.status === undefined ? [] : [sql`status = ${filter.status}`]),
          ...(filter.mainKey === undefined ? [] : [sql`main_key = ${filter.mainKey}`]),
          ...(filter.dueBefore === undefined
            ? []
            : [sql`next_due IS NOT NULL AND next_due <= ${DateTime.toEpochMillis(filter.dueBefore)}`])
        ])} ORDER BY CASE WHEN next_due IS NULL THEN 1 ELSE 0 END, next_due, id`.pipe(
          Effect.flatMap(decodeSubscriptions)
        )
      ).pipe(
        Effect.map((rows) => rows.map(toSubscription)),
        mapErrors("listSubscriptions")
      )

    const recordSubscriptionPayment = (id: string, nextDue: Option.Option<DateTime.Utc>) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const due = Option.match(nextDue, { onNone: () => null, onSome: DateTime.toEpochMillis })
          return yield* sql`UPDATE subscriptions SET payments_made = payments_made + 1, next_due = ${due}, updated_at = ${t}
            WHERE id = ${id} RETURNING *`.pipe(Effect.flatMap(decodeSubscriptions))
        })
      ).pipe(
        Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toSubscription)),
        mapErrors("recordSubscriptionPayment")
      )

    const deleteSubscription = (id: string) =>
      tx(sql`DELETE FROM subscriptions WHERE id = ${id} RETURNING id`).pipe(
        Effect.map((rows) => rows.length > 0),
        mapErrors("deleteSubscription")
      )

    // ---- relays --------------------------------------------------------------------------------------------

    const setRelay = (url: string, state: "added" | "removed") =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const rows = yield* (
            state === "added"
              ? sql`INSERT INTO relays (url, state, position, updated_at)
                VALUES (${url}, 'added', (SELECT COALESCE(MAX(position), 0) + 1 FROM relays), ${t})
                ON CONFLICT (url) DO UPDATE SET
                  position = CASE WHEN relays.state = 'added' THEN relays.position ELSE excluded.position END,
                  updated_at = CASE WHEN relays.state = 'added' THEN relays.updated_at ELSE excluded.updated_at END,
                  state = 'added'
                RETURNING *`
              : sql`INSERT INTO relays (url, state, position, updated_at)
                VALUES (${url}, 'removed', (SELECT COALESCE(MAX(position), 0) + 1 FROM relays), ${t})
                ON CONFLICT (url) DO UPDATE SET state = 'removed', updated_at = excluded.updated_at
                RETURNING *`
          ).pipe(Effect.flatMap(decodeRelays))
          return toRelay(rows[0]!)
        })
      ).pipe(mapErrors(state === "added" ? "addRelay" : "removeRelay"))

    const listRelays = read(sql`SELECT * FROM relays ORDER BY position, url`.pipe(Effect.flatMap(decodeRelays))).pipe(
      Effect.map((rows) => rows.map(toRelay)),
      mapErrors("listRelays")
    )

    // ---- webhook outbox ------------------------------------------------------------------------------------

    const enqueueWebhook = (streamId: string, index: number) =>
      tx(Effect.flatMap(now, (t) => insertOutbox(streamId, index, t))).pipe(Effect.asVoid, mapErrors("enqueueWebhook"))

    const claimWebhooks: Service["claimWebhooks"] = ({ lease, limit, owner }) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const candidates = yield* sql`SELECT o.id FROM webhook_outbox o
            WHERE o.status = 'pending' AND o.next_attempt_at <= ${t}
              AND (o.claimed_until IS NULL OR o.claimed_until <= ${t})
              AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
                WHERE p.stream_id = o.stream_id AND p.status = 'pending' AND p.idx < o.idx)
            ORDER BY o.next_attempt_at, o.id
            LIMIT ${Math.max(0, Math.floor(limit))}
            ${sql.literal(pg ? "FOR UPDATE SKIP LOCKED" : "")}`.pipe(Effect.flatMap(decodeIds))
          if (candidates.length === 0) return []
          const ids = candidates.map((row) => row.id)
          yield* sql`UPDATE webhook_outbox SET claimed_by = ${owner}, claimed_until = ${t + millis(lease)}
            WHERE ${sql.in("id", ids)}`
          return yield* sql`SELECT o.id, o.stream_id, o.idx, o.status, o.attempts, o.next_attempt_at, o.last_error,
              o.created_at, e.created_at AS event_created_at, e.type, e.data
            FROM webhook_outbox o JOIN stream_events e ON e.stream_id = o.stream_id AND e.idx = o.idx
            WHERE ${sql.in("o.id", ids)}
            ORDER BY o.next_attempt_at, o.id`.pipe(Effect.flatMap(decodeWebhooks))
        })
      ).pipe(
        Effect.map((rows) => rows.map(toWebhook)),
        mapErrors("claimWebhooks")
      )

    const markWebhookFailed: Service["markWebhookFailed"] = (id, { error, nextAttemptAt }) =>
      tx(
        Effect.flatMap(
          now,
          (t) => sql`UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ${error},
            next_attempt_at = ${DateTime.toEpochMillis(nextAttemptAt)}, claimed_by = NULL, claimed_until = NULL,
            updated_at = ${t}
            WHERE id = ${id} AND status = 'pending'`
        )
      ).pipe(Effect.asVoid, mapErrors("markWebhookFailed"))

    const markWebhookDone = (op: string, id: number, status: "delivered" | "dead", error: string | null) =>
      tx(
        Effect.flatMap(
          now,
          (t) => sql`UPDATE webhook_outbox SET attempts = attempts + 1, status = ${status},
            last_error = COALESCE(${error}, last_error), claimed_by = NULL, claimed_until = NULL, updated_at = ${t}
            WHERE id = ${id} AND status = 'pending'`
        )
      ).pipe(Effect.asVoid, mapErrors(op))

    const nextWebhookDue = read(
      Effect.flatMap(
        now,
        (t) => sql`SELECT MIN(CASE WHEN o.claimed_until IS NOT NULL AND o.claimed_until > ${t}
              AND o.claimed_until > o.next_attempt_at THEN o.claimed_until ELSE o.next_attempt_at END) AS due
            FROM webhook_outbox o
            WHERE o.status = 'pending' AND NOT EXISTS (SELECT 1 FROM webhook_outbox p
              WHERE p.stream_id = o.stream_id AND p.status = 'pending' AND p.idx < o.idx)`
      ).pipe(Effect.flatMap(decodeDue))
    ).pipe(
      Effect.map((rows) => Option.flatMap(Option.fromNullable(rows[0]), (row) => row.due)),
      mapErrors("nextWebhookDue")
    )

    // ---- seen ids ------------------------------------------------------------------------------------------

    const markSeen = (scope: string, id: string, ttl: Duration.DurationInput) =>
      tx(
        Effect.gen(function* () {
          const t = yield* now
          const rows =
            yield* sql`INSERT INTO seen_ids (scope, id, expires_at) VALUES (${scope}, ${id}, ${t + millis(ttl)})
            ON CONFLICT (scope, id) DO UPDATE SET expires_at = excluded.expires_at
            WHERE seen_ids.expires_at <= ${t}
            RETURNING id`.pipe(Effect.flatMap(decodeAny))
          return rows.length > 0
        })
      ).pipe(mapErrors("markSeen"))

    const purgeSeen = tx(
      Effect.flatMap(now, (t) => sql`DELETE FROM seen_ids WHERE expires_at <= ${t} RETURNING id`)
    ).pipe(
      Effect.map((rows) => rows.length),
      mapErrors("purgeSeen")
    )

    const transaction = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | StoreFailure> =>
      Effect.flatMap(inTransaction, (nested) =>
        Option.isSome(batched) && !nested
          ? // group-committed: its own savepoint inside the batch's transaction
            batched.value(Effect.exit(sql.withTransaction(effect)), tx(effect))
          : tx(effect)
      ).pipe(
        Effect.catchIf(
          (error): error is SqlError => error instanceof SqlError,
          (error) => Effect.fail(failure("transaction", "Query")(error))
        )
      )

    // ---- retention -----------------------------------------------------------------------------------------

    if (options.retention !== false) {
      const { interval, maxAge } = options.retention
      yield* purgeFinishedStreams(maxAge).pipe(
        Effect.zipRight(purgeSeen),
        Effect.catchAll((error) => Effect.logWarning("store: retention failed", error)),
        Effect.repeat(Schedule.spaced(interval ?? Duration.hours(1))),
        Effect.forkScoped
      )
    }

    return {
      backend,
      createStream,
      reopenStream,
      getStream,
      listStreams,
      append,
      finishStream,
      readEvents,
      events,
      purgeFinishedStreams,
      putOperation,
      insertOperation,
      getOperation,
      listOperations,
      operationsOfStream,
      deleteOperation,
      claimOperations,
      releaseOperations,
      putSubscription,
      getSubscription,
      listSubscriptions,
      recordSubscriptionPayment,
      deleteSubscription,
      addRelay: (url) => setRelay(url, "added"),
      removeRelay: (url) => setRelay(url, "removed"),
      listRelays,
      enqueueWebhook,
      claimWebhooks,
      markWebhookFailed,
      markWebhookDelivered: (id) => markWebhookDone("markWebhookDelivered", id, "delivered", null),
      markWebhookDead: (id, error) => markWebhookDone("markWebhookDead", id, "dead", error),
      nextWebhookDue,
      markSeen,
      purgeSeen,
      transaction
    } satisfies Service
  })
