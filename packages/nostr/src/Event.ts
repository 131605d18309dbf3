/**
 * NIP-01 events: the wire schema, templates, id computation, signing with a local key, and verification.
 *
 * Verification is a service, `Verifier`, initialised in a layer: `layerVerifier` compiles the secp256k1 wasm
 * module (nostr-wasm, through nostr-tools' `wasm` entry point) and falls back to the pure-JS verifier
 * (`@noble/curves`) when wasm cannot load; `layerVerifierPure` skips wasm. Both check the id (sha256 of the
 * serialised event) and the BIP-340 signature. Anything read from a relay goes through `Verifier.decode` first.
 *
 * Signing (`signWith`) uses the same wasm module (libsecp256k1, several times faster than pure JS) once a
 * `layerVerifier` has loaded it in the process, and `@noble/curves` before that or when it could not load; both give
 * BIP-340 signatures with fresh auxiliary randomness, and the wasm result is used only when its id is ours.
 *
 * @since 0.1.0
 */
import { EventIdHex, PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { KeyPair } from "./Keys.js"
import * as Tools from "./internal/nostrTools.js"
import * as Secp from "./internal/secp256k1.js"
import { InvalidEvent } from "./NostrError.js"

/**
 * A BIP-340 signature: 64 bytes as 128 lowercase hex characters.
 * @category schemas
 */
export const SignatureHex = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{128}$/, { message: () => "expected 128 lowercase hex characters (a signature)" }),
  Schema.brand("SignatureHex")
)
/** @category schemas */
export type SignatureHex = typeof SignatureHex.Type

/**
 * An event kind: an integer in 0..65535.
 * @category schemas
 */
export const Kind = Schema.Int.pipe(Schema.between(0, 65535))

/**
 * A tag: a list of strings, the first being its name.
 * @category schemas
 */
export const Tag = Schema.Array(Schema.String)

/**
 * A signed NIP-01 event as it travels. Decoding checks the shape only; `Verifier` checks id and signature.
 * @category schemas
 */
export const NostrEvent = Schema.Struct({
  id: EventIdHex,
  pubkey: PublicKeyHex,
  created_at: UnixSeconds,
  kind: Kind,
  tags: Schema.Array(Tag),
  content: Schema.String,
  sig: SignatureHex
})
/** @category schemas */
export interface NostrEvent extends Schema.Schema.Type<typeof NostrEvent> {}

/**
 * What a signer turns into an event.
 * @category models
 */
export interface EventTemplate {
  readonly kind: number
  readonly tags: ReadonlyArray<ReadonlyArray<string>>
  readonly content: string
  readonly created_at: number
}

/**
 * A template plus its author: everything the id covers.
 * @category models
 */
export interface UnsignedEvent extends EventTemplate {
  readonly pubkey: string
}

/**
 * A template stamped with the current time (from `Clock`, so tests control it).
 * @category constructors
 */
export const template = (fields: {
  readonly kind: number
  readonly content?: string
  readonly tags?: ReadonlyArray<ReadonlyArray<string>>
}): Effect.Effect<EventTemplate> =>
  Effect.map(Clock.currentTimeMillis, (millis) => ({
    kind: fields.kind,
    tags: fields.tags ?? [],
    content: fields.content ?? "",
    created_at: Math.floor(millis / 1000)
  }))

/**
 * The NIP-01 serialisation the id hashes: `[0, pubkey, created_at, kind, tags, content]`.
 * @category ids
 */
export const serialize = (event: UnsignedEvent): string =>
  JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content])

/**
 * The event id: sha256 of the serialisation, lowercase hex.
 * @category ids
 */
export const computeId = (event: UnsignedEvent): EventIdHex => EventIdHex.make(Secp.sha256Hex(serialize(event)))

/**
 * Signs a template with a local key (BIP-340, fresh auxiliary randomness). `Signer.layerLocal` uses this.
 * @category signing
 */
export const signWith = (keys: KeyPair, template: EventTemplate): Effect.Effect<NostrEvent> =>
  Effect.sync(() => {
    const unsigned: UnsignedEvent = { ...template, pubkey: keys.publicKey }
    const id = computeId(unsigned)
    const secret = Redacted.value(keys.secretKey)
    const wasm = Tools.signWithWasm(unsigned, secret)
    const sig = wasm !== undefined && wasm.id === id ? wasm.sig : Secp.signSchnorr(Secp.hexToBytes(id), secret)
    return {
      id,
      pubkey: keys.publicKey,
      created_at: UnixSeconds.make(template.created_at),
      kind: template.kind,
      tags: template.tags.map((tag) => [...tag]),
      content: template.content,
      sig: SignatureHex.make(sig)
    }
  })

/**
 * Checks id and signature in pure JS (`@noble/curves`). The fallback verifier; `Verifier` is faster.
 * @category verification
 */
export const verifyPure = (event: NostrEvent): boolean =>
  computeId(event) === event.id && Secp.verifySchnorr(event.sig, event.id, event.pubkey)

/**
 * The values of every tag named `name` (its second element).
 * @category tags
 */
export const tagValues = (event: Pick<EventTemplate, "tags">, name: string): ReadonlyArray<string> => {
  const values: Array<string> = []
  for (const tag of event.tags) {
    const value = tag[1]
    if (tag[0] === name && value !== undefined) values.push(value)
  }
  return values
}

const decodeShape = Schema.decodeUnknownEither(NostrEvent)

/**
 * Event verification. `decode` is the entry point for anything from outside: shape, then id, then signature.
 * @category verification
 */
export interface VerifierService {
  /** Which implementation checks signatures. */
  readonly backend: "wasm" | "pure"
  /** Id and signature check, synchronous, for hot paths. */
  readonly isValid: (event: NostrEvent) => boolean
  /** Id and signature check. */
  readonly verify: (event: NostrEvent) => Effect.Effect<NostrEvent, InvalidEvent>
  /** Decodes an unknown value (a parsed relay frame element) and verifies it. */
  readonly decode: (input: unknown) => Effect.Effect<NostrEvent, InvalidEvent>
  /** Synchronous `decode`, for the relay pool's frame loop. */
  readonly decodeEither: (input: unknown) => Either.Either<NostrEvent, InvalidEvent>
}

/**
 * The event verifier service.
 * @category verification
 */
export class Verifier extends Context.Tag("@portal/nostr/Event/Verifier")<Verifier, VerifierService>() {}

const makeVerifier = (backend: "wasm" | "pure", check: (event: NostrEvent) => boolean): VerifierService => {
  const isValid = check
  const verifyEither = (event: NostrEvent): Either.Either<NostrEvent, InvalidEvent> => {
    if (isValid(event)) return Either.right(event)
    // only on failure: tell a wrong id from a wrong signature
    const reason = computeId(event) === event.id ? "Signature" : "Id"
    return Either.left(
      new InvalidEvent({
        reason,
        id: event.id,
        detail: reason === "Id" ? "id is not the sha256 of the serialised event" : "BIP-340 signature does not verify"
      })
    )
  }
  const decodeEither = (input: unknown): Either.Either<NostrEvent, InvalidEvent> =>
    Either.flatMap(
      Either.mapLeft(
        decodeShape(input),
        (error) =>
          new InvalidEvent({
            reason: "Malformed",
            detail: ParseResult.TreeFormatter.formatErrorSync(error)
          })
      ),
      verifyEither
    )
  return {
    backend,
    isValid,
    verify: (event) => Effect.suspend(() => verifyEither(event)),
    decode: (input) => Effect.suspend(() => decodeEither(input)),
    decodeEither
  }
}

/**
 * The pure-JS verifier, without a layer (for scripts and benchmarks).
 * @category verification
 */
export const pureVerifier: VerifierService = makeVerifier("pure", verifyPure)

/**
 * Loads the wasm verifier; fails if the module cannot be compiled.
 * @category verification
 */
export const makeWasmVerifier: Effect.Effect<VerifierService, InvalidEvent> = Effect.tryPromise({
  try: () => Tools.loadWasm(),
  catch: () => new InvalidEvent({ reason: "Malformed", detail: "wasm verifier failed to load" })
}).pipe(Effect.as(makeVerifier("wasm", (event) => Tools.verifyWithWasm(event))))

/**
 * The wasm verifier, or the pure-JS one (with a warning) when wasm does not load.
 * @category layers
 */
export const layerVerifier: Layer.Layer<Verifier> = Layer.effect(
  Verifier,
  makeWasmVerifier.pipe(
    Effect.catchAll(() =>
      Effect.as(Effect.logWarning("nostr: wasm verifier unavailable, using the pure-JS verifier"), pureVerifier)
    )
  )
)

/**
 * The pure-JS verifier.
 * @category layers
 */
export const layerVerifierPure: Layer.Layer<Verifier> = Layer.succeed(Verifier, pureVerifier)
