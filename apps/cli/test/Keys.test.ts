import { assert, describe, it } from "@effect/vitest"
import * as Keys from "@portal/nostr/Keys"
import * as Effect from "effect/Effect"
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { jsonLines, portal } from "./CliProcess.js"

/** Generous: every step is a process start on a machine that may be running the whole suite. */
const TIMEOUT = 180_000

// NIP-06's published test vector
const NIP06_MNEMONIC = "leader monkey parrot ring guide accident before fence cannon height naive bean"
const NIP06_SECRET = "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a"
const NIP06_PUBLIC = "17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917"

const tempDir = () => mkdtempSync(join(tmpdir(), "portal-cli-keys-"))

describe("portal keys / config", () => {
  it.live(
    "generate prints the public key only; the secret goes to a new 0600 file that reads back to it",
    () =>
      Effect.gen(function* () {
        const file = join(tempDir(), "user.nsec")
        const result = yield* portal(["keys", "generate", "--json", "--out", file])
        assert.strictEqual(result.code, 0, result.stderr)
        const [printed] = jsonLines(result.stdout)
        assert.match(printed.public_key, /^[0-9a-f]{64}$/)
        assert.isUndefined(printed.secret_key)
        assert.notInclude(result.stdout + result.stderr, "nsec1")
        assert.strictEqual(statSync(file).mode & 0o777, 0o600)
        const keys = yield* Keys.fromSecret(readFileSync(file, "utf8"))
        assert.strictEqual(keys.publicKey, printed.public_key)
        assert.strictEqual(Keys.npub(keys.publicKey), printed.npub)
        // never overwritten
        const again = yield* portal(["keys", "generate", "--out", file])
        assert.strictEqual(again.code, 1)
        assert.include(again.stderr, "already exists")
      }),
    TIMEOUT
  )

  it.live(
    "from-mnemonic derives the NIP-06 vector from stdin; convert maps hex ⇄ npub and nsec → public",
    () =>
      Effect.gen(function* () {
        const derived = yield* portal(["keys", "from-mnemonic", "--json", "--show-secret"], { input: NIP06_MNEMONIC })
        assert.strictEqual(derived.code, 0, derived.stderr)
        const [keys] = jsonLines(derived.stdout)
        assert.strictEqual(keys.secret_key, NIP06_SECRET)
        assert.strictEqual(keys.public_key, NIP06_PUBLIC)

        const fromNpub = yield* portal(["keys", "convert", "--json", keys.npub])
        assert.deepStrictEqual(jsonLines(fromNpub.stdout), [{ public_key: NIP06_PUBLIC, npub: keys.npub }])
        const fromHex = yield* portal(["keys", "convert", NIP06_PUBLIC])
        assert.include(fromHex.stdout, keys.npub)

        const secretFile = join(tempDir(), "secret")
        writeFileSync(secretFile, `${NIP06_SECRET}\n`)
        const fromSecret = yield* portal(["keys", "convert", "--json", "--secret-file", secretFile])
        assert.deepStrictEqual(jsonLines(fromSecret.stdout), [{ public_key: NIP06_PUBLIC, npub: keys.npub }])

        const bad = yield* portal(["keys", "convert", "npub1notakey"])
        assert.strictEqual(bad.code, 1)
        assert.match(bad.stderr.trim(), /^error: key: npub: bad bech32/)
        assert.strictEqual(bad.stderr.trim().split("\n").length, 1)
      }),
    TIMEOUT
  )

  it.live(
    "config init writes a 0600 config.toml with a token it never prints, and keeps an existing file",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const result = yield* portal(["config", "init"], { env: { PORTAL_DATA_DIR: dir, PORTAL_CONFIG: "" } })
        assert.strictEqual(result.code, 0, result.stderr)
        const file = join(dir, "config.toml")
        const text = readFileSync(file, "utf8")
        const token = /auth_token = "([0-9a-f]{64})"/.exec(text)?.[1]
        assert.isDefined(token)
        assert.notInclude(result.stdout + result.stderr, token!)
        assert.strictEqual(statSync(file).mode & 0o777, 0o600)
        const again = yield* portal(["config", "init", "--path", file])
        assert.strictEqual(again.code, 1)
        assert.strictEqual(readFileSync(file, "utf8"), text)
      }),
    TIMEOUT
  )

  it.live(
    "a bad flag prints usage and exits 2",
    () =>
      Effect.gen(function* () {
        const result = yield* portal(["keys", "generate", "--bogus"])
        assert.strictEqual(result.code, 2)
        assert.include(result.stderr, "--bogus")
        assert.include(result.stderr, "usage: portal keys generate")
        assert.strictEqual(result.stdout, "")
      }),
    TIMEOUT
  )
})
