/**
 * The startup profile (protocol.md §15.2–15.3): kind 0 published to a real loopback relay, refused in subkey mode,
 * and the one-time getportal.cc NIP-05 registration against a loopback stand-in of profile.getportal.cc (a real
 * `node:http` server on a random port), including the soft failures (refusal, unreachable host).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, layer } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Nip05 from "@portal/nostr/Nip05"
import * as Profiles from "@portal/nostr/Profiles"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as ProfileStartup from "@portal/server/ProfileStartup"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { verifyEvent } from "nostr-tools/pure"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import * as NodePath from "node:path"
import * as DaemonProcess from "./DaemonProcess.js"

const none = { name: Option.none(), displayName: Option.none(), picture: Option.none(), nip05: Option.none() }

/** A stand-in of profile.getportal.cc answering `status`, recording the bodies it receives. */
const registrationHost = (status: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly bodies: Array<string>; readonly server: Http.Server }>((resume) => {
      const bodies: Array<string> = []
      const server = Http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk) => (body += String(chunk)))
        request.on("end", () => {
          bodies.push(body)
          response.writeHead(status, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}/`, bodies, server }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(NodePath.join(tmpdir(), "portal-profile-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Runs `ProfileStartup.layer(options)` with a key, a pool on `relay`, and the log lines it wrote. */
const runStartup = (relay: string, keys: Keys.KeyPair, options: ProfileStartup.Options) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) =>
      lines.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    )
    const NostrLayer = Profiles.layer.pipe(
      Layer.provideMerge(Nip05.layer().pipe(Layer.provide(FetchHttpClient.layer))),
      Layer.provideMerge(Signer.layerLocalKeys(keys)),
      Layer.provideMerge(RelayPool.layerNode({ relays: [relay], backoff: { initial: "40 millis" } }))
    )
    yield* Layer.build(
      ProfileStartup.layer(options).pipe(
        Layer.provide(NostrLayer),
        Layer.provide(FetchHttpClient.layer),
        Layer.provide(NodeContext.layer),
        Layer.provide(Logger.replace(Logger.defaultLogger, logger)),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Debug))
      )
    )
    return lines
  })

/** Waits until a log line matches. */
const awaitLine = (lines: ReadonlyArray<string>, pattern: RegExp) =>
  Effect.sync(() => lines.find((line) => pattern.test(line))).pipe(
    Effect.repeat({ until: (line) => line !== undefined, schedule: Schedule.spaced("20 millis") }),
    Effect.timeout("10 seconds"),
    Effect.map((line) => line!)
  )

describe("ProfileStartup", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("publishes the configured fields as kind 0 (sorted keys, no tags) with the daemon key", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const keys = yield* Keys.generate
        const lines = yield* runStartup(relay.url, keys, {
          profile: { ...none, name: Option.some("shop"), displayName: Option.some("The Shop") },
          subkey: false,
          dataDir: yield* tempDir
        })
        yield* awaitLine(lines, /^Published the profile \(kind 0, event [0-9a-f]{64}\): accepted by 1 of 1 relay/)
        const stored = (yield* relay.storedEvents).filter((e) => e.kind === 0 && e.pubkey === keys.publicKey)
        assert.lengthOf(stored, 1)
        assert.strictEqual(stored[0]!.content, `{"display_name":"The Shop","name":"shop"}`)
        assert.deepStrictEqual(stored[0]!.tags, [])
      })
    )

    it.scoped("refuses to publish in subkey mode with one warning, and publishes nothing", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const keys = yield* Keys.generate
        const lines = yield* runStartup(relay.url, keys, {
          profile: { ...none, name: Option.some("shop") },
          subkey: true,
          dataDir: yield* tempDir
        })
        yield* awaitLine(lines, /^profile\.\*: not published: .*refused in subkey mode/)
        const stored = (yield* relay.storedEvents).filter((e) => e.kind === 0 && e.pubkey === keys.publicKey)
        assert.lengthOf(stored, 0)
      })
    )

    it.scoped(
      "registers a getportal.cc nip05 once: a signed kind 1 {nip_05}, then the marker; a restart skips it",
      () =>
        Effect.gen(function* () {
          const relay = yield* TestRelay.TestRelay
          const keys = yield* Keys.generate
          const host = yield* registrationHost(200)
          const dataDir = yield* tempDir
          const options: ProfileStartup.Options = {
            profile: { ...none, nip05: Option.some(" Alice@GetPortal.cc ") },
            subkey: false,
            dataDir,
            registrationUrl: host.url
          }
          const first = yield* runStartup(relay.url, keys, options)
          yield* awaitLine(first, /^profile\.nip05: registered Alice@GetPortal\.cc with getportal\.cc/)
          assert.lengthOf(host.bodies, 1)
          const event = JSON.parse(host.bodies[0]!) as Parameters<typeof verifyEvent>[0]
          assert.isTrue(verifyEvent(event), "the registration event is not validly signed")
          assert.strictEqual(event.kind, 1)
          assert.strictEqual(event.pubkey, keys.publicKey)
          assert.strictEqual(event.content, `{"nip_05":"alice"}`)
          assert.strictEqual(
            readFileSync(NodePath.join(dataDir, ProfileStartup.markerFile), "utf8").trim(),
            "Alice@GetPortal.cc"
          )
          const second = yield* runStartup(relay.url, keys, options)
          yield* awaitLine(second, /already registered/)
          assert.lengthOf(host.bodies, 1)
        })
    )

    it.scoped("a refused or unreachable registration is a warning and leaves no marker", () =>
      Effect.gen(function* () {
        const relay = yield* TestRelay.TestRelay
        const keys = yield* Keys.generate
        const refusing = yield* registrationHost(503)
        const dataDir = yield* tempDir
        const nip05 = Option.some("bob@getportal.cc")
        const refused = yield* runStartup(relay.url, keys, {
          profile: { ...none, nip05 },
          subkey: false,
          dataDir,
          registrationUrl: refusing.url
        })
        yield* awaitLine(refused, /^profile\.nip05: registration of bob@getportal\.cc .*refused \(HTTP 503\)/)
        const closedPort = yield* DaemonProcess.freePort
        const unreachable = yield* runStartup(relay.url, keys, {
          profile: { ...none, nip05 },
          subkey: false,
          dataDir,
          registrationUrl: `http://127.0.0.1:${closedPort}/`
        })
        yield* awaitLine(unreachable, /^profile\.nip05: registration of bob@getportal\.cc .*failed/)
        assert.isFalse(existsSync(NodePath.join(dataDir, ProfileStartup.markerFile)))
      })
    )
  })

  describe("getportalName", () => {
    layer(Layer.empty)((it) => {
      it.effect("only getportal.cc identifiers, local part trimmed and lowercased", () =>
        Effect.sync(() => {
          assert.deepStrictEqual(ProfileStartup.getportalName(" Alice @getportal.cc"), Option.some("alice"))
          assert.deepStrictEqual(ProfileStartup.getportalName("alice@example.com"), Option.none())
          assert.deepStrictEqual(ProfileStartup.getportalName("alice@getportal.cc.evil"), Option.none())
          assert.deepStrictEqual(ProfileStartup.getportalName("@getportal.cc"), Option.none())
        })
      )
    })
  })
})
