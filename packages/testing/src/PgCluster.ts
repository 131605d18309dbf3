/**
 * A throw-away PostgreSQL cluster for tests and benchmarks (spec: ecosystem.md §12).
 *
 * `layer` runs `initdb` into a fresh temp directory and `pg_ctl start` on a random loopback port, with the
 * Unix socket inside that directory (`-k`) so parallel clusters never collide and `fsync=off` because the data
 * is thrown away. `initdb` refuses to run as root, so as root every cluster command goes through
 * `runuser -u postgres --`. The release stops the cluster with `-m immediate` and deletes the directory, also
 * after failures. `createDatabase` gives each test its own empty database.
 *
 * `layerExisting(url)` uses a server someone else runs (e.g. `PORTAL_TEST_DATABASE_URL` in CI): it only creates
 * databases on it. `binariesAvailable()` tells a test file whether `layer` can work at all, so it can skip
 * visibly instead of failing.
 *
 * The error lives here rather than in a package-wide error module: this is a private test helper and
 * `PgClusterError` is its only failure.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as Net from "node:net"
import * as NodePath from "node:path"

/**
 * A cluster command failed, or PostgreSQL is not installed.
 * @category errors
 */
export class PgClusterError extends Schema.TaggedError<PgClusterError>()("PgClusterError", {
  reason: Schema.Literal("Unavailable", "Start", "Command"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message() {
    return `PostgreSQL test cluster: ${this.reason}: ${this.detail}`
  }
}

/**
 * A running PostgreSQL server reachable on loopback.
 * @category models
 */
export interface Service {
  /** Connection URL of the `postgres` database as the `postgres` superuser (no password). */
  readonly url: string
  /** Creates a fresh, empty database and returns its connection URL. */
  readonly createDatabase: (name?: string) => Effect.Effect<string, PgClusterError>
}

/** @category tags */
export class PgCluster extends Context.Tag("@portal/testing/PgCluster")<PgCluster, Service>() {}

const binaries = ["initdb", "pg_ctl", "postgres", "psql"] as const

const onPath = (name: string, pathVariable: string): boolean =>
  pathVariable
    .split(NodePath.delimiter)
    .filter((dir) => dir !== "")
    .some((dir) => {
      try {
        NodeFs.accessSync(NodePath.join(dir, name), NodeFs.constants.X_OK)
        return true
      } catch {
        return false
      }
    })

/**
 * Whether `initdb`, `pg_ctl`, `postgres` and `psql` are on the `PATH` given (the process `PATH` by default), so
 * that `layer` can start a cluster. Synchronous, for `describe.skipIf` at module level.
 * @category constructors
 */
export const binariesAvailable = (pathVariable: string = process.env.PATH ?? ""): boolean =>
  binaries.every((name) => onPath(name, pathVariable))

const collect = (stream: Stream.Stream<Uint8Array, unknown>) =>
  Stream.runCollect(Stream.decodeText(stream)).pipe(
    Effect.map((chunks) => Chunk.join(chunks, "")),
    Effect.orElseSucceed(() => "")
  )

/** Runs a command to completion; a non-zero exit fails with its stderr. */
const run = (command: Command.Command, what: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const child = yield* Command.start(command)
      const [stdout, stderr, exitCode] = yield* Effect.all(
        [collect(child.stdout), collect(child.stderr), child.exitCode],
        {
          concurrency: "unbounded"
        }
      )
      if (exitCode !== 0) {
        return yield* new PgClusterError({
          reason: "Command",
          detail: `${what} exited with ${exitCode}: ${stderr.trim() || stdout.trim()}`
        })
      }
      return stdout
    })
  ).pipe(
    Effect.catchTag("SystemError", "BadArgument", (cause) =>
      Effect.fail(new PgClusterError({ reason: "Command", detail: `${what} could not run`, cause }))
    )
  )

const freePort = Effect.async<number, PgClusterError>((resume) => {
  const server = Net.createServer()
  server.once("error", (cause) =>
    resume(Effect.fail(new PgClusterError({ reason: "Start", detail: "no free port", cause })))
  )
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const randomName = Effect.map(
  Effect.replicateEffect(Random.nextIntBetween(0, 36), 12),
  (digits) => `t_${digits.map((d) => d.toString(36)).join("")}`
)

const makeCreateDatabase =
  (adminUrl: string, psql: (args: ReadonlyArray<string>) => Command.Command) =>
  (name?: string): Effect.Effect<string, PgClusterError, CommandExecutor.CommandExecutor> =>
    Effect.gen(function* () {
      const db = name ?? (yield* randomName)
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) {
        return yield* new PgClusterError({
          reason: "Command",
          detail: `database name: expected [a-z_][a-z0-9_]*, got ${db}`
        })
      }
      yield* run(
        psql(["-v", "ON_ERROR_STOP=1", "-q", "-d", adminUrl, "-c", `CREATE DATABASE ${db}`]),
        `CREATE DATABASE ${db}`
      )
      const url = new URL(adminUrl)
      url.pathname = `/${db}`
      return url.toString()
    })

const provideCommands = <A, E>(
  effect: Effect.Effect<A, E, CommandExecutor.CommandExecutor>,
  context: Context.Context<CommandExecutor.CommandExecutor>
) => Effect.provide(effect, context)

/**
 * Starts a throw-away cluster for the lifetime of the layer. Fails with `PgClusterError` reason `Unavailable`
 * when the binaries are missing.
 * @category layers
 */
export const layer: Layer.Layer<PgCluster, PgClusterError> = Layer.scoped(
  PgCluster,
  Effect.gen(function* () {
    if (!binariesAvailable()) {
      return yield* new PgClusterError({ reason: "Unavailable", detail: `need ${binaries.join(", ")} on PATH` })
    }
    const context = yield* Effect.context<CommandExecutor.CommandExecutor | FileSystem.FileSystem>()
    const fs = yield* FileSystem.FileSystem
    const asRoot = process.getuid?.() === 0
    const dir = yield* Effect.acquireRelease(fs.makeTempDirectory({ prefix: "portal-pg-" }), (dir) =>
      fs.remove(dir, { recursive: true }).pipe(Effect.ignore)
    ).pipe(
      Effect.mapError((cause) => new PgClusterError({ reason: "Start", detail: "cannot create a temp dir", cause }))
    )
    const data = NodePath.join(dir, "data")
    const asPostgres = (bin: string, ...args: Array<string>) =>
      (asRoot ? Command.make("runuser", "-u", "postgres", "--", bin, ...args) : Command.make(bin, ...args)).pipe(
        Command.workingDirectory(dir)
      )
    if (asRoot) {
      yield* run(Command.make("chown", "postgres:postgres", dir), "chown")
      yield* run(Command.make("chmod", "700", dir), "chmod")
    }
    yield* run(asPostgres("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"), "initdb")

    const start = Effect.gen(function* () {
      const port = yield* freePort
      yield* run(
        asPostgres(
          "pg_ctl",
          "-D",
          data,
          "-l",
          NodePath.join(dir, "log"),
          "-w",
          "-o",
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
          "start"
        ),
        "pg_ctl start"
      )
      return port
    })
    const port = yield* Effect.acquireRelease(start.pipe(Effect.retry({ times: 2 })), () =>
      run(asPostgres("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"), "pg_ctl stop").pipe(Effect.ignore)
    )
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`
    const createDatabase = makeCreateDatabase(url, (args) =>
      Command.make("psql", ...args).pipe(Command.workingDirectory(dir))
    )
    return PgCluster.of({ url, createDatabase: (name) => provideCommands(createDatabase(name), context) })
  })
).pipe(Layer.provide(NodeContext.layer))

/**
 * Uses an existing server (e.g. from `PORTAL_TEST_DATABASE_URL`); `url` must allow `CREATE DATABASE`.
 * @category layers
 */
export const layerExisting = (url: string): Layer.Layer<PgCluster> =>
  Layer.effect(
    PgCluster,
    Effect.gen(function* () {
      const context = yield* Effect.context<CommandExecutor.CommandExecutor>()
      const createDatabase = makeCreateDatabase(url, (args) => Command.make("psql", ...args))
      return PgCluster.of({ url, createDatabase: (name) => provideCommands(createDatabase(name), context) })
    })
  ).pipe(Layer.provide(NodeContext.layer))

/**
 * `layerExisting(url)` when a URL is given, otherwise a throw-away cluster.
 * @category layers
 */
export const layerFrom = (url: string | undefined): Layer.Layer<PgCluster, PgClusterError> =>
  url !== undefined && url !== "" ? layerExisting(url) : layer
