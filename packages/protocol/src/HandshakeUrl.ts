/**
 * The key-handshake URL (protocol.md §6) that a service shows as a QR code or deep link so a wallet can introduce
 * itself: `portal://<main npub>?relays=<r1>,<r2>&token=<token>[&subkey=<npub>][&no_request=true]`.
 *
 * Built and parsed exactly as the reference's `key_handshake.rs` does: each relay is percent-encoded (everything
 * but `A-Z a-z 0-9 - _ . ~` as upper-case `%XX` over UTF-8) and the relays are joined with a literal `,`; the token
 * is not encoded at all, so a token containing `&` does not survive parsing (nor does surrounding whitespace
 * when it ends the URL, because parsing trims). Parsing trims the input, splits the query on `&`, lets the last
 * occurrence of a key win, ignores unknown keys, reads `relays=` as one empty relay and percent-decodes leniently
 * (a `%` not followed by two hex digits stays as it is). Keys are npubs; hex is refused. npubs go through
 * `PublicKey`, which also checks the key is a curve point.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as RustText from "./internal/rustText.js"
import type { PublicKeyHex } from "./Primitives.js"
import { HandshakeUrlError } from "./ProtocolError.js"
import * as PublicKey from "./PublicKey.js"

/**
 * A parsed key-handshake URL. `sendTo` is the key the wallet encrypts its handshake to (the subkey when there is
 * one), `allKeys` the keys it p-tags (main key first).
 * @category model
 */
export class HandshakeUrl extends Schema.Class<HandshakeUrl>("HandshakeUrl")({
  mainKey: PublicKey.PublicKey,
  relays: Schema.Array(Schema.String),
  token: Schema.String,
  subkey: Schema.OptionFromSelf(PublicKey.PublicKey),
  noRequest: Schema.Boolean
}) {
  /** The key the handshake event is encrypted to: the subkey if present, else the main key. */
  get sendTo(): PublicKeyHex {
    return Option.getOrElse(this.subkey, () => this.mainKey)
  }

  /** The main key, then the subkey if present. */
  get allKeys(): ReadonlyArray<PublicKeyHex> {
    return Option.match(this.subkey, { onNone: () => [this.mainKey], onSome: (sub) => [this.mainKey, sub] })
  }
}

/**
 * What a service puts in its handshake URL.
 * @category building
 */
export interface BuildOptions {
  /** The service's main key: the subkey proof's main key when the service signs with a subkey. */
  readonly mainKey: PublicKeyHex
  readonly relays: ReadonlyArray<string>
  /** Written as is, not encoded: keep it free of `&`. */
  readonly token: string
  /** The key the service signs with, when it is a subkey of `mainKey`. */
  readonly subkey?: PublicKeyHex | undefined
  /** Handshake only: the wallet should not expect an auth challenge to follow. */
  readonly noRequest?: boolean | undefined
}

const prefix = "portal://"

const unreserved = /^[A-Za-z0-9\-_.~]$/
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

const percentEncode = (s: string): string => {
  let out = ""
  for (const byte of utf8.encode(s)) {
    const char = String.fromCharCode(byte)
    out += unreserved.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
  }
  return out
}

const hexDigit = (byte: number | undefined): number => {
  if (byte === undefined) return -1
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  return -1
}

// `urlencoding::decode`: `%XX` with two hex digits becomes a byte, any other `%` stays; the bytes must be UTF-8.
const percentDecode = (s: string): Either.Either<string, HandshakeUrlError> => {
  const bytes = utf8.encode(s)
  const out: Array<number> = []
  for (let i = 0; i < bytes.length; i++) {
    const high = bytes[i] === 0x25 ? hexDigit(bytes[i + 1]) : -1
    const low = high === -1 ? -1 : hexDigit(bytes[i + 2])
    if (low === -1) {
      out.push(bytes[i]!)
    } else {
      out.push(high * 16 + low)
      i += 2
    }
  }
  return Either.try({
    try: () => strictUtf8.decode(Uint8Array.from(out)),
    catch: () => new HandshakeUrlError({ reason: "InvalidRelayUrl", detail: "a relay is not UTF-8 once decoded" })
  })
}

/**
 * The URL a service shows, byte for byte as the reference prints it.
 * @category building
 */
export const build = (options: BuildOptions): string => {
  const relays = options.relays.map(percentEncode).join(",")
  const subkey = options.subkey === undefined ? "" : `&subkey=${PublicKey.toNpub(options.subkey)}`
  const noRequest = options.noRequest === true ? "&no_request=true" : ""
  return `${prefix}${PublicKey.toNpub(options.mainKey)}?relays=${relays}&token=${options.token}${subkey}${noRequest}`
}

/**
 * The URL of a parsed `HandshakeUrl` (`build` with its fields).
 * @category building
 */
export const format = (url: HandshakeUrl): string =>
  build({
    mainKey: url.mainKey,
    relays: url.relays,
    token: url.token,
    subkey: Option.getOrUndefined(url.subkey),
    noRequest: url.noRequest
  })

const npub = (input: string): Either.Either<PublicKeyHex, HandshakeUrlError> =>
  /^npub1/i.test(input)
    ? Either.mapLeft(
        PublicKey.parseEither(input),
        (error) => new HandshakeUrlError({ reason: "Bech32", detail: error.detail })
      )
    : Either.left(new HandshakeUrlError({ reason: "Bech32", detail: `expected an npub, got ${JSON.stringify(input)}` }))

const parseEither = (input: string): Either.Either<HandshakeUrl, HandshakeUrlError> =>
  Either.gen(function* () {
    const s = RustText.trim(input)
    if (!s.startsWith(prefix)) {
      return yield* Either.left(new HandshakeUrlError({ reason: "InvalidProtocol", detail: "expected portal://" }))
    }
    const rest = s.slice(prefix.length)
    const question = rest.indexOf("?")
    if (question === -1) {
      return yield* Either.left(new HandshakeUrlError({ reason: "MissingQueryParams", detail: "no ? in the URL" }))
    }
    const mainKey = yield* npub(rest.slice(0, question))
    let relays: ReadonlyArray<string> = []
    let token: string | undefined
    let subkey: Option.Option<PublicKeyHex> = Option.none()
    let noRequest = false
    for (const param of rest.slice(question + 1).split("&")) {
      const equals = param.indexOf("=")
      if (equals === -1) {
        return yield* Either.left(new HandshakeUrlError({ reason: "InvalidQueryParam", detail: "missing value" }))
      }
      const value = param.slice(equals + 1)
      switch (param.slice(0, equals)) {
        case "relays":
          relays = yield* Either.all(value.split(",").map(percentDecode))
          break
        case "token":
          token = value
          break
        case "subkey":
          subkey = Option.some(yield* npub(value))
          break
        case "no_request":
          noRequest = value === "true"
          break
      }
    }
    if (token === undefined) {
      return yield* Either.left(new HandshakeUrlError({ reason: "MissingRequiredParam", detail: "token" }))
    }
    if (relays.length === 0) {
      return yield* Either.left(new HandshakeUrlError({ reason: "NoRelays", detail: "no relays parameter" }))
    }
    return new HandshakeUrl({ mainKey, relays, token, subkey, noRequest }, true)
  })

/**
 * Parses a handshake URL as the wallet does. Never throws.
 * @category parsing
 */
export const parse = (url: string): Effect.Effect<HandshakeUrl, HandshakeUrlError> => parseEither(url)

/**
 * A handshake URL as a string: decoded with `parse`, encoded with `format`.
 * @category schemas
 */
export const HandshakeUrlFromString = Schema.transformOrFail(Schema.String, Schema.typeSchema(HandshakeUrl), {
  strict: true,
  decode: (input, _, ast) =>
    Either.mapLeft(parseEither(input), (error) => new ParseResult.Type(ast, input, error.message)),
  encode: (url) => ParseResult.succeed(format(url))
}).annotations({ identifier: "HandshakeUrlFromString" })
