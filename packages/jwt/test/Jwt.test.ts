import { assert, describe, it } from "@effect/vitest"
import { Jwt as JwtModule } from "@portal/jwt"
import * as Jwt from "@portal/jwt/Jwt"
import * as Keys from "@portal/nostr/Keys"
import { PublicKeyHex } from "@portal/protocol/Primitives"
import { base64urlnopad } from "@scure/base"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { readFileSync } from "node:fs"

// Conformance vectors (../shared/vectors/jwt.json), decoded rather than cast
const TimeCheck = Schema.Struct({ now: Schema.Number, expected: Schema.Literal("valid", "expired", "not_yet_valid") })
const Vector = Schema.Struct({
  name: Schema.String,
  kind: Schema.Literal("issue", "verify"),
  token: Schema.String,
  verify_pubkey: PublicKeyHex,
  expected_valid: Schema.Boolean,
  decoded_target_key: Schema.optional(Schema.String),
  time_checks: Schema.optional(Schema.Array(TimeCheck)),
  signer_secret: Schema.optional(Schema.String),
  signer_pubkey: Schema.optional(Schema.String),
  target_key: Schema.optional(PublicKeyHex),
  iat: Schema.optional(Schema.Number),
  nbf: Schema.optional(Schema.Number),
  exp: Schema.optional(Schema.Number),
  header: Schema.optional(Schema.String),
  claims: Schema.optional(Schema.String),
  signature: Schema.optional(Schema.String)
})
const vectors = Schema.decodeUnknownSync(Schema.Struct({ vectors: Schema.Array(Vector) }))(
  JSON.parse(readFileSync(new URL("../../../../shared/vectors/jwt.json", import.meta.url), "utf8"))
).vectors

const b64 = (text: string) => base64urlnopad.encode(new TextEncoder().encode(text))
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/**
 * Signs an arbitrary signing input with @noble/curves directly (secret negated to even Y, as protocol.md §14
 * says), to build tokens with claims the issuer never produces.
 */
const signRaw = (keys: Keys.KeyPair, input: string) =>
  Effect.sync(() => {
    let secret = Redacted.value(keys.secretKey)
    if (secp256k1.getPublicKey(secret, true)[0] === 3) {
      const Fn = secp256k1.Point.Fn
      secret = Fn.toBytes(Fn.neg(Fn.fromBytes(secret)))
    }
    return `${input}.${base64urlnopad.encode(secp256k1.sign(new TextEncoder().encode(input), secret))}`
  })

const k1 = "5077c0c3cbbd6f772cf9adfcc2be0f89489e308ecb231671c525605c9c33323a"

const reasonOf = (name: string) =>
  Effect.gen(function* () {
    const v = vectors.find((x) => x.name === name)!
    const error = yield* Effect.flip(Jwt.decode(v.token, v.verify_pubkey))
    return error.reason
  })

describe("Jwt vectors", () => {
  it("has vectors of both kinds", () => {
    assert.isAtLeast(vectors.filter((v) => v.kind === "issue").length, 4)
    assert.isAtLeast(vectors.filter((v) => v.kind === "verify").length, 5)
  })

  for (const v of vectors.filter((v) => v.kind === "issue")) {
    it.effect(`issue: ${v.name} gives the exact token and signature`, () =>
      Effect.gen(function* () {
        const keys = yield* Keys.fromSecret(Redacted.make(v.signer_secret!))
        assert.strictEqual(keys.publicKey, v.signer_pubkey)
        const token = yield* Jwt.issue({
          secretKey: keys.secretKey,
          targetKey: v.target_key!,
          now: v.iat!,
          durationSeconds: v.exp! - v.iat!
        })
        assert.strictEqual(token, v.token)
        const [header, claims, signature] = token.split(".")
        assert.strictEqual(header, b64(v.header!))
        assert.strictEqual(claims, b64(v.claims!))
        assert.strictEqual(hex(base64urlnopad.decode(signature!)), v.signature)
      })
    )
  }

  for (const v of vectors) {
    it.effect(`decode: ${v.name} → ${v.expected_valid ? "valid" : "invalid"}`, () =>
      Effect.gen(function* () {
        const result = yield* Effect.either(Jwt.decode(v.token, v.verify_pubkey))
        assert.strictEqual(Either.isRight(result), v.expected_valid)
        if (Either.isRight(result)) assert.strictEqual(result.right.targetKey, v.decoded_target_key)
        else assert.strictEqual(result.left._tag, "InvalidJwt")
      })
    )
    for (const check of v.time_checks ?? []) {
      it.effect(`verify: ${v.name} at ${check.now} → ${check.expected}`, () =>
        Effect.gen(function* () {
          const result = yield* Effect.either(Jwt.verify(v.token, v.verify_pubkey, check.now))
          const outcome = Either.match(result, {
            onRight: () => "valid",
            onLeft: (e) =>
              e._tag === "JwtExpired" ? "expired" : e._tag === "JwtNotYetValid" ? "not_yet_valid" : e._tag
          })
          assert.strictEqual(outcome, check.expected)
        })
      )
    }
  }

  it.effect("failing vectors fail for the reason they name", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* reasonOf("wrong verification key"), "Signature")
      assert.strictEqual(yield* reasonOf("claims changed after signing"), "Signature")
      assert.strictEqual(yield* reasonOf("alg must be ES256K"), "Algorithm")
      assert.strictEqual(yield* reasonOf("signature must be 64 bytes"), "SignatureLength")
    })
  )
})

describe("Jwt", () => {
  const validVector = vectors.find((v) => v.name === "k1 signs for k2")!

  it.effect("the §e error messages", () =>
    Effect.gen(function* () {
      const v = validVector
      const expired = yield* Effect.flip(Jwt.verify(v.token, v.verify_pubkey, v.exp! + 61))
      assert.strictEqual(expired.message, `token expired at ${v.exp}`)
      const early = yield* Effect.flip(Jwt.verify(v.token, v.verify_pubkey, v.nbf! - 61))
      assert.strictEqual(early.message, `token not valid before ${v.nbf}`)
      const other = vectors.find((x) => x.name === "wrong verification key")!
      const bad = yield* Effect.flip(Jwt.verify(other.token, other.verify_pubkey, v.iat!))
      assert.strictEqual(bad.message, "invalid signature")
    })
  )

  it.effect("60 s leeway on both sides, inclusive", () =>
    Effect.gen(function* () {
      const v = validVector
      const at = (now: number) => Effect.either(Jwt.verify(v.token, v.verify_pubkey, now))
      assert.isTrue(Either.isRight(yield* at(v.exp! + 60)))
      assert.isTrue(Either.isLeft(yield* at(v.exp! + 61)))
      assert.isTrue(Either.isRight(yield* at(v.nbf! - 60)))
      assert.isTrue(Either.isLeft(yield* at(v.nbf! - 61)))
    })
  )

  it.effect("a token without exp is refused by verify, accepted by decode", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.fromSecret(k1)
      const token = yield* signRaw(keys, `${b64(Jwt.HEADER)}.${b64(`{"target_key":"${validVector.target_key}"}`)}`)
      const claims = yield* Jwt.decode(token, keys.publicKey)
      assert.isTrue(Option.isNone(claims.exp))
      const error = yield* Effect.flip(Jwt.verify(token, keys.publicKey, 0))
      assert.strictEqual(error._tag, "InvalidJwt")
      assert.strictEqual(error.message, "missing exp claim")
    })
  )

  it.effect("a high-S signature is accepted (verification normalises S)", () =>
    Effect.gen(function* () {
      const v = validVector
      const [h, c, s] = v.token.split(".") as [string, string, string]
      const sig = base64urlnopad.decode(s)
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
      const sValue = BigInt(`0x${hex(sig.subarray(32))}`)
      const highS = Buffer.from((n - sValue).toString(16).padStart(64, "0"), "hex")
      const token = `${h}.${c}.${base64urlnopad.encode(Buffer.concat([sig.subarray(0, 32), highS]))}`
      assert.notStrictEqual(token, v.token)
      const claims = yield* Jwt.decode(token, v.verify_pubkey)
      assert.strictEqual(claims.targetKey, v.target_key)
    })
  )

  it.effect("target_key may be an npub or nostr: URI; it decodes to hex", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.fromSecret(k1)
      const target = validVector.target_key!
      for (const form of [Keys.npub(target), `nostr:${Keys.npub(target)}`]) {
        const input = `${b64(Jwt.HEADER)}.${b64(`{"exp":10,"target_key":"${form}"}`)}`
        const claims = yield* Jwt.decode(yield* signRaw(keys, input), keys.publicKey)
        assert.strictEqual(claims.targetKey, target)
      }
    })
  )

  it.effect("malformed tokens are typed failures, never defects", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.fromSecret(k1)
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["", "Malformed"],
        ["a.b", "Malformed"],
        ["a.b.c.d", "Malformed"],
        ["!!!.e30.AA", "Malformed"],
        [`${b64("not json")}.e30.AA`, "Malformed"],
        [`${b64('{"typ":"JWT"}')}.e30.AA`, "Algorithm"],
        [`${b64('{"alg":"none"}')}.e30.`, "Algorithm"],
        [`${b64(Jwt.HEADER)}.e30.`, "SignatureLength"],
        [yield* signRaw(keys, `${b64(Jwt.HEADER)}.${b64("[1]")}`), "Claims"],
        [yield* signRaw(keys, `${b64(Jwt.HEADER)}.${b64('{"exp":1.5,"target_key":"x"}')}`), "Claims"],
        [yield* signRaw(keys, `${b64(Jwt.HEADER)}.${b64('{"exp":1,"target_key":"zz"}')}`), "Claims"]
      ]
      for (const [token, reason] of cases) {
        const error = yield* Effect.flip(Jwt.decode(token, keys.publicKey))
        assert.strictEqual(error.reason, reason, token)
      }
    })
  )

  it.effect("issue refuses a duration that is not whole seconds ≥ 1", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.fromSecret(k1)
      for (const durationSeconds of [0, -5, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(
          Jwt.issue({ secretKey: keys.secretKey, targetKey: keys.publicKey, now: 1700000000, durationSeconds })
        )
        assert.strictEqual(error.reason, "Duration")
      }
      const bad = yield* Effect.flip(
        Jwt.issue({
          secretKey: Redacted.make(new Uint8Array(32)),
          targetKey: keys.publicKey,
          now: 1,
          durationSeconds: 1
        })
      )
      assert.strictEqual(bad.reason, "SecretKey")
    })
  )

  it.effect("the Jwt service signs with its key pair and verifies on the Clock", () =>
    Effect.gen(function* () {
      const keys = yield* Keys.fromSecret(k1)
      const target = validVector.target_key!
      const jwt = yield* JwtModule.Jwt
      assert.strictEqual(jwt.publicKey, keys.publicKey)
      yield* TestClock.setTime(1_700_000_000_000)
      const token = yield* jwt.issue(target, 3600)
      // same instant, key and duration as the first vector: the same bytes
      assert.strictEqual(token, validVector.token)
      assert.strictEqual((yield* jwt.verify(token, keys.publicKey)).targetKey, target)
      yield* TestClock.adjust("3661 seconds")
      const error = yield* Effect.flip(jwt.verify(token, keys.publicKey))
      assert.strictEqual(error._tag, "JwtExpired")
    }).pipe(Effect.provide(Layer.unwrapEffect(Effect.map(Keys.fromSecret(k1), Jwt.layer))))
  )
})
