/**
 * Every typed error of the store. One class per decision a caller makes:
 *
 * - `StreamNotFound`: the stream was never created (or was removed by retention): the REST API answers 404.
 * - `StreamAlreadyExists`: `createStream` with an id in use: a conflict, not a failure of the database.
 * - `StreamFinished`: an append to a stream that already ended: late events are ignored, not stored.
 * - `StoreFailure`: the database could not be opened, migrated, queried, or returned a row that does not decode:
 *   a 500 / retry. The SQL text and the driver's exception stay in `cause`; nothing secret is in the message
 *   (connection URLs carry passwords, so they are never part of it).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The stream id is unknown.
 * @category errors
 */
export class StreamNotFound extends Schema.TaggedError<StreamNotFound>()("StreamNotFound", {
  streamId: Schema.String
}) {
  override get message() {
    return `Stream '${this.streamId}' not found`
  }
}

/**
 * `createStream` with an id that already exists.
 * @category errors
 */
export class StreamAlreadyExists extends Schema.TaggedError<StreamAlreadyExists>()("StreamAlreadyExists", {
  streamId: Schema.String
}) {
  override get message() {
    return `stream '${this.streamId}' already exists`
  }
}

/**
 * An append to a stream whose status is no longer `in_flight`.
 * @category errors
 */
export class StreamFinished extends Schema.TaggedError<StreamFinished>()("StreamFinished", {
  streamId: Schema.String,
  status: Schema.Literal("completed", "failed")
}) {
  override get message() {
    return `stream '${this.streamId}' is finished (${this.status}); nothing more is appended`
  }
}

/**
 * The database failed. `reason`: `Open` (file, connection, pragmas), `Migrate`, `Query`, `Encode` (a value that
 * is not JSON), `Decode` (a stored row that does not match its schema). `op` names the store method.
 * @category errors
 */
export class StoreFailure extends Schema.TaggedError<StoreFailure>()("StoreFailure", {
  backend: Schema.Literal("sqlite", "pg"),
  reason: Schema.Literal("Open", "Migrate", "Query", "Encode", "Decode"),
  op: Schema.String,
  /** The driver's or decoder's message (never a connection URL). */
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    const detail = this.detail === undefined || this.detail === "" ? "" : `: ${this.detail}`
    return `store (${this.backend}): ${this.op}: ${this.reason} failed${detail}`
  }
}

/** @category errors */
export type StoreError = StreamNotFound | StreamAlreadyExists | StreamFinished | StoreFailure
/** @category errors */
export const StoreError = Schema.Union(StreamNotFound, StreamAlreadyExists, StreamFinished, StoreFailure)
