import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Subkey from "@portal/protocol/Subkey"
import * as Config from "@portal/server/Config"
import * as Startup from "@portal/server/Startup"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const tempHome = () => mkdtempSync(join(tmpdir(), "portal-startup-"))

const load = (env: Record<string, string>, home = tempHome(), argv: ReadonlyArray<string> = []) =>
  Startup.load({ argv, env, home }).pipe(Effect.provide(NodeContext.layer))

describe("Startup.load", () => {
  it.effect("uses the defaults with no file and no env, and generates both secrets with mode 0600", () =>
    Effect.gen(function* () {
      const home = tempHome()
      const loaded = yield* load({}, home)
      assert.strictEqual(loaded.settings.info.port, 3000)
      assert.strictEqual(loaded.settings.info.host, "0.0.0.0")
      assert.deepStrictEqual(loaded.settings.nostr.relays, Config.defaultRelays)
      assert.strictEqual(loaded.settings.wallet.lnBackend, "none")
      const tokenFile = join(home, ".portal-rest", "auth_token")
      const keyFile = join(home, ".portal-rest", "nostr_private_key")
      assert.match(Redacted.value(loaded.secrets.authToken), /^[0-9a-f]{64}$/)
      assert.match(Redacted.value(loaded.secrets.privateKey), /^[0-9a-f]{64}$/)
      assert.strictEqual(readFileSync(tokenFile, "utf8").trim(), Redacted.value(loaded.secrets.authToken))
      assert.strictEqual(statSync(tokenFile).mode & 0o777, 0o600)
      assert.strictEqual(statSync(keyFile).mode & 0o777, 0o600)
      assert.strictEqual(statSync(join(home, ".portal-rest")).mode & 0o777, 0o700)
      // a second start reuses the stored secrets
      const again = yield* load({}, home)
      assert.strictEqual(Redacted.value(again.secrets.authToken), Redacted.value(loaded.secrets.authToken))
      assert.strictEqual(Redacted.value(again.secrets.privateKey), Redacted.value(loaded.secrets.privateKey))
    })
  )

  it.effect("reads the TOML file and lets env override it; lists are comma-separated in env", () =>
    Effect.gen(function* () {
      const home = tempHome()
      const file = join(home, "portal.toml")
      writeFileSync(
        file,
        [
          "[info]",
          "listen_port = 4100",
          'listen_host = "127.0.0.1"',
          "[nostr]",
          'relays = ["wss://one.example", "wss://two.example"]',
          "[auth]",
          'auth_token = "file-token-0123456789"',
          "[wallet]",
          'ln_backend = "nwc"'
        ].join("\n")
      )
      const loaded = yield* load(
        { PORTAL__INFO__LISTEN_PORT: "4200", PORTAL__SERVER__CORS_ORIGINS: "https://a.example, https://b.example" },
        home,
        ["--config", file]
      )
      assert.strictEqual(loaded.settings.info.port, 4200)
      assert.strictEqual(loaded.settings.info.host, "127.0.0.1")
      assert.deepStrictEqual(loaded.settings.nostr.relays, ["wss://one.example", "wss://two.example"])
      assert.deepStrictEqual(loaded.settings.server.corsOrigins, ["https://a.example", "https://b.example"])
      assert.strictEqual(loaded.settings.wallet.lnBackend, "nwc")
      assert.strictEqual(Redacted.value(loaded.secrets.authToken), "file-token-0123456789")
    })
  )

  it.effect("never takes a placeholder as a live secret", () =>
    Effect.gen(function* () {
      const loaded = yield* load({
        PORTAL__AUTH__AUTH_TOKEN: "your-auth-token",
        PORTAL__NOSTR__PRIVATE_KEY: "your-nostr-private-key"
      })
      assert.notStrictEqual(Redacted.value(loaded.secrets.authToken), "your-auth-token")
      assert.match(Redacted.value(loaded.secrets.privateKey), /^[0-9a-f]{64}$/)
    })
  )

  it.effect("names the key and env var of a bad value in one line", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ PORTAL__INFO__LISTEN_PORT: "eighty" }))
      assert.strictEqual(error._tag, "StartupError")
      assert.match(error.message, /^Invalid configuration: info\.listen_port \(PORTAL__INFO__LISTEN_PORT\): /)
      assert.notInclude(error.message, "\n")
      const backend = yield* Effect.flip(load({ PORTAL__WALLET__LN_BACKEND: "lnd" }))
      assert.match(backend.message, /wallet\.ln_backend \(PORTAL__WALLET__LN_BACKEND\): .*none, nwc, breez/)
    })
  )

  it.effect("reports a malformed TOML file in one line", () =>
    Effect.gen(function* () {
      const home = tempHome()
      const file = join(home, "bad.toml")
      writeFileSync(file, "[info\nlisten_port = ")
      const error = yield* Effect.flip(load({ PORTAL_CONFIG: file }, home))
      assert.match(error.message, /is not valid TOML/)
      assert.notInclude(error.message, "\n")
    })
  )

  it.effect("refuses to generate secrets when a shared PostgreSQL database is configured", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(load({ PORTAL__DATABASE__URL: "postgres://db.example/portal" }))
      assert.include(error.message, "must be configured when database.url is set")
      const ok = yield* load({
        PORTAL__DATABASE__URL: "postgres://db.example/portal",
        PORTAL__AUTH__AUTH_TOKEN: "a-long-enough-shared-token",
        PORTAL__NOSTR__PRIVATE_KEY: "11".repeat(32)
      })
      assert.isTrue(Option.isSome(ok.settings.database.url))
    })
  )

  it.effect("accepts the Nostr key as hex or nsec and refuses a bad one without echoing it", () =>
    Effect.gen(function* () {
      const hex = "5077c0c3cbbd6f772cf9adfcc2be0f89489e308ecb231671c525605c9c33323a"
      const fromHex = yield* load({ PORTAL__NOSTR__PRIVATE_KEY: hex })
      const nsec = Redacted.value(Keys.nsec(fromHex.keys))
      const fromNsec = yield* load({ PORTAL__NOSTR__PRIVATE_KEY: nsec })
      assert.strictEqual(fromNsec.keys.publicKey, fromHex.keys.publicKey)
      const bad = "nsec1notarealkey" + "q".repeat(40)
      const error = yield* Effect.flip(load({ PORTAL__NOSTR__PRIVATE_KEY: bad }))
      assert.match(error.message, /^Invalid configuration: nostr\.private_key \(PORTAL__NOSTR__PRIVATE_KEY\): /)
      assert.notInclude(error.message, bad)
    })
  )

  it.effect(
    "checks nostr.subkey_proof: a proof of the daemon's key loads, a malformed or foreign one is one clear line",
    () =>
      Effect.gen(function* () {
        const main = yield* Keys.generate
        const metadataJson = {
          name: "daemon-subkey",
          nonce: "33".repeat(32),
          valid_from: "0",
          expires_at: "18446744073709551615",
          permissions: ["auth"],
          version: 2
        }
        const metadata = yield* Schema.decodeUnknown(Subkey.SubkeyMetadata)(metadataJson)
        const secret = yield* Subkey.deriveSubkeySecret(Redacted.value(main.secretKey), metadata)
        const proof = JSON.stringify({ main_key: main.publicKey, metadata: metadataJson })
        // from the TOML file
        const withProof = (key: string, json: string) => {
          const home = tempHome()
          const file = join(home, "portal.toml")
          writeFileSync(file, ["[nostr]", `subkey_proof = '${json}'`].join("\n"))
          return load({ PORTAL__NOSTR__PRIVATE_KEY: key, PORTAL__AUTH__AUTH_TOKEN: "env-token-0123456789" }, home, [
            "--config",
            file
          ])
        }
        const loaded = yield* withProof(Buffer.from(secret).toString("hex"), proof)
        assert.deepStrictEqual(
          Option.map(loaded.subkeyProof, (p) => p.mainKey),
          Option.some(main.publicKey)
        )
        const other = yield* Keys.generate
        const foreign = yield* Effect.flip(
          withProof(Buffer.from(Redacted.value(other.secretKey)).toString("hex"), proof)
        )
        assert.match(
          foreign.message,
          /^Invalid configuration: nostr\.subkey_proof \(PORTAL__NOSTR__SUBKEY_PROOF\): subkey proof: Derivation/
        )
        const malformed = yield* Effect.flip(withProof(Buffer.from(secret).toString("hex"), "{not json"))
        assert.match(malformed.message, /^Invalid configuration: nostr\.subkey_proof \(PORTAL__NOSTR__SUBKEY_PROOF\): /)
        assert.notInclude(malformed.message, "\n")
        // the same proof from the environment: JSON with commas is one value, not a list
        const fromEnv = yield* load({
          PORTAL__NOSTR__PRIVATE_KEY: Buffer.from(secret).toString("hex"),
          PORTAL__AUTH__AUTH_TOKEN: "env-token-0123456789",
          PORTAL__NOSTR__SUBKEY_PROOF: proof
        })
        assert.deepStrictEqual(
          Option.map(fromEnv.subkeyProof, (p) => p.mainKey),
          Option.some(main.publicKey)
        )
      })
  )

  it.effect("splits only list settings on commas; other values keep theirs; retention days are validated", () =>
    Effect.gen(function* () {
      const loaded = yield* load({
        PORTAL__NOSTR__RELAYS: "wss://a.example, wss://b.example",
        PORTAL__PROFILE__NAME: "Alice, Inc",
        PORTAL__DATABASE__RETENTION_DAYS: "0"
      })
      assert.deepStrictEqual(loaded.settings.nostr.relays, ["wss://a.example", "wss://b.example"])
      assert.deepStrictEqual(loaded.settings.profile.name, Option.some("Alice, Inc"))
      assert.strictEqual(loaded.settings.database.retentionDays, 0)
      const error = yield* Effect.flip(load({ PORTAL__DATABASE__RETENTION_DAYS: "-1" }))
      assert.match(
        error.message,
        /^Invalid configuration: database\.retention_days \(PORTAL__DATABASE__RETENTION_DAYS\): /
      )
    })
  )
})
