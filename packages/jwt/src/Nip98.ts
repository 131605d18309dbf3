/**
 * NIP-98 HTTP auth, server side (differences.md §k, ecosystem.md §6): checks an `Authorization: Nostr <base64
 * event>` header against the request it came with. The checks run in the order of §k and the first failure wins:
 *
 * 1. header present, `Nostr` scheme (any case), standard base64 (padding optional; base64url accepted) of a JSON
 *    event object; 2. NIP-01 id and BIP-340 signature (the `@portal/nostr` `Event.Verifier`); 3. kind 27235;
 * 4. |now − created_at| ≤ 60 s (the `Clock`); 5. exactly one `u` tag equal to the request's public URL (scheme and
 * host case-insensitive, the rest byte for byte, query included); 6. exactly one `method` tag equal to the request
 * method (case-sensitive); 7. a `payload` tag, when present, equals sha256 of the **raw** body (of the empty body
 * when there is none), and a non-empty body requires one; 8. the event id was not accepted before (`SeenIds`,
 * remembered 120 s); 9. the key is allowed.
 *
 * Failures of 1–8 are `Nip98Rejected` (401) with a `reason`; 9 is `Nip98KeyNotAllowed` (403); an empty allow-list
 * is `Nip98Disabled` (403) before anything else is read.
 *
 * Unlike nostr-tools' `nip98.validateEvent`, the body hash covers the bytes received, not
 * `JSON.stringify(JSON.parse(body))`, and times come from the `Clock`.
 *
 * @since 0.1.0
 */
import * as Event from "@portal/nostr/Event"
import type { PublicKeyHex } from "@portal/protocol/Primitives"
import { base64 } from "@scure/base"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Es256k from "./internal/es256k.js"
import { nowSeconds } from "./Jwt.js"
import { Nip98Disabled, type Nip98Error, Nip98KeyNotAllowed, Nip98Rejected } from "./JwtError.js"
import { SeenIds } from "./SeenIds.js"

/**
 * The NIP-98 event kind.
 * @category constants
 */
export const KIND = 27235

/**
 * Default allowed distance between `created_at` and now, in seconds.
 * @category constants
 */
export const WINDOW_SECONDS = 60

/**
 * sha256 of the empty body: the `payload` a body-less request may carry.
 * @category constants
 */
export const EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/**
 * The request as the verifier needs it.
 * @category models
 */
export interface Request {
  /** The `Authorization` header value; `undefined` when absent. */
  readonly authorization: string | undefined
  /** The HTTP method as received (`GET`). */
  readonly method: string
  /** The absolute URL the client used: see `requestUrl`. */
  readonly url: string
  /** The raw body bytes; absent or empty for no body. */
  readonly body?: Uint8Array
}

/**
 * Verifier settings.
 * @category models
 */
export interface Options {
  /** Keys allowed to log in (`auth.nip98_pubkeys`, already parsed). Empty: NIP-98 login is disabled. */
  readonly allowedKeys: Iterable<PublicKeyHex>
  /** Allowed |now − created_at| in seconds; default 60. */
  readonly windowSeconds?: number
}

const rejected = (reason: Nip98Rejected["reason"], detail: string) => new Nip98Rejected({ reason, detail })

const SCHEME = /^nostr\s+(\S+)\s*$/i
const BASE64ISH = /^[A-Za-z0-9+/_-]+={0,2}$/
const utf8Strict = new TextDecoder("utf-8", { fatal: true })

/**
 * Step 1: the header's event as parsed JSON (shape not yet checked).
 * @category parsing
 */
export const parseAuthorization = (authorization: string | undefined): Either.Either<unknown, Nip98Rejected> => {
  if (authorization === undefined || authorization.trim() === "") {
    return Either.left(rejected("MissingHeader", "missing Authorization header"))
  }
  const match = SCHEME.exec(authorization.trim())
  if (match === null) return Either.left(rejected("Scheme", "expected Authorization: Nostr <base64 event>"))
  const encoded = match[1]!
  if (!BASE64ISH.test(encoded)) return Either.left(rejected("Malformed", "the token is not base64"))
  const unpadded = encoded.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/")
  const padded = unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4)
  return Either.try({
    try: () => JSON.parse(utf8Strict.decode(base64.decode(padded))) as unknown,
    catch: () => rejected("Malformed", "the token is not base64 of a JSON event")
  }).pipe(
    Either.filterOrLeft(
      (value) => typeof value === "object" && value !== null && !Array.isArray(value),
      () => rejected("Malformed", "the token is not a JSON event object")
    )
  )
}

const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s

/**
 * Whether two absolute URLs are the same for NIP-98: scheme and host (with port) compared case-insensitively, the
 * rest (path, query, fragment) byte for byte.
 * @category checks
 */
export const sameUrl = (a: string, b: string): boolean => {
  const pa = URL_PARTS.exec(a)
  const pb = URL_PARTS.exec(b)
  if (pa === null || pb === null) return a === b
  return (
    pa[1]!.toLowerCase() === pb[1]!.toLowerCase() && pa[2]!.toLowerCase() === pb[2]!.toLowerCase() && pa[3] === pb[3]
  )
}

const firstListValue = (value: string | undefined) => value?.split(",")[0]?.trim() || undefined

/**
 * The absolute URL a client signs for this request (§k step 5): `publicUrl` when set (a trailing `/` dropped);
 * otherwise `<X-Forwarded-Proto>://<X-Forwarded-Host>` when `trustProxy` and both are present (first value of a
 * list), else `http://<Host>`; then `pathAndQuery` (`/auth/nip98?…`) as received.
 * @category url
 */
export const requestUrl = (parts: {
  readonly publicUrl: string | undefined
  readonly trustProxy: boolean
  readonly host: string | undefined
  readonly forwardedProto?: string | undefined
  readonly forwardedHost?: string | undefined
  readonly pathAndQuery: string
}): string => {
  const proto = firstListValue(parts.forwardedProto)
  const forwardedHost = firstListValue(parts.forwardedHost)
  const base =
    parts.publicUrl !== undefined && parts.publicUrl !== ""
      ? parts.publicUrl.replace(/\/+$/, "")
      : parts.trustProxy && proto !== undefined && forwardedHost !== undefined
        ? `${proto}://${forwardedHost}`
        : `http://${parts.host ?? ""}`
  return `${base}${parts.pathAndQuery}`
}

/**
 * Steps 3–7 on a verified event, at `now` (Unix seconds).
 * @category checks
 */
export const checkEvent = (
  event: Event.NostrEvent,
  request: Pick<Request, "method" | "url" | "body">,
  now: number,
  windowSeconds: number = WINDOW_SECONDS
): Either.Either<Event.NostrEvent, Nip98Rejected> => {
  if (event.kind !== KIND) return Either.left(rejected("Kind", `expected kind ${KIND}, got ${event.kind}`))
  if (event.created_at < now - windowSeconds) {
    return Either.left(
      rejected("Stale", `created_at ${event.created_at} is more than ${windowSeconds} s before now (${now})`)
    )
  }
  if (event.created_at > now + windowSeconds) {
    return Either.left(
      rejected("Future", `created_at ${event.created_at} is more than ${windowSeconds} s after now (${now})`)
    )
  }
  const urls = Event.tagValues(event, "u")
  if (urls.length !== 1) return Either.left(rejected("Url", `expected one u tag, got ${urls.length}`))
  if (!sameUrl(urls[0]!, request.url)) {
    return Either.left(rejected("Url", `u tag ${JSON.stringify(urls[0])} does not match ${request.url}`))
  }
  const methods = Event.tagValues(event, "method")
  if (methods.length !== 1) return Either.left(rejected("Method", `expected one method tag, got ${methods.length}`))
  if (methods[0] !== request.method) {
    return Either.left(rejected("Method", `method tag ${JSON.stringify(methods[0])} does not match ${request.method}`))
  }
  const payloads = Event.tagValues(event, "payload")
  const body = request.body ?? new Uint8Array()
  if (payloads.length > 1)
    return Either.left(rejected("Payload", `expected at most one payload tag, got ${payloads.length}`))
  if (payloads.length === 0) {
    return body.length === 0
      ? Either.right(event)
      : Either.left(rejected("Payload", "a request with a body needs a payload tag"))
  }
  const hash = Es256k.sha256Hex(body)
  return payloads[0]!.toLowerCase() === hash
    ? Either.right(event)
    : Either.left(rejected("Payload", `payload tag does not match the sha256 of the body (${hash})`))
}

/**
 * The NIP-98 verifier.
 * @category service
 */
export interface Service {
  /** False when no key is allowed: every `verify` then fails with `Nip98Disabled`. */
  readonly enabled: boolean
  /** Runs every check; succeeds with the verified event (its `pubkey` is the caller). */
  readonly verify: (request: Request) => Effect.Effect<Event.NostrEvent, Nip98Error>
}

/**
 * The NIP-98 verifier service.
 * @category service
 */
export class Nip98 extends Context.Tag("@portal/jwt/Nip98")<Nip98, Service>() {}

/**
 * A verifier over the given event verifier and seen-ids port. Ids are remembered for twice the window (≥ 120 s).
 * @category constructors
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const verifier = yield* Event.Verifier
  const seenIds = yield* SeenIds
  const allowed = new Set<string>(options.allowedKeys)
  const windowSeconds = options.windowSeconds ?? WINDOW_SECONDS
  const replayTtl = Duration.seconds(Math.max(2 * windowSeconds, 120))

  const verify: Service["verify"] = Effect.fn("Nip98.verify")(function* (request: Request) {
    if (allowed.size === 0) return yield* new Nip98Disabled()
    const json = yield* parseAuthorization(request.authorization)
    const event = yield* verifier
      .decode(json)
      .pipe(
        Effect.mapError((error) =>
          error.reason === "Id"
            ? rejected("Id", "the event id is not the hash of the event")
            : error.reason === "Signature"
              ? rejected("Signature", "invalid event signature")
              : rejected("Malformed", `not a Nostr event: ${error.detail}`)
        )
      )
    const now = yield* nowSeconds
    yield* checkEvent(event, request, now, windowSeconds)
    const fresh = yield* seenIds.markSeen(event.id, replayTtl)
    if (!fresh) return yield* rejected("Replayed", `event ${event.id} was already used`)
    if (!allowed.has(event.pubkey)) return yield* new Nip98KeyNotAllowed({ pubkey: event.pubkey })
    return event
  })

  return Nip98.of({ enabled: allowed.size > 0, verify })
})

/**
 * The NIP-98 verifier service.
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Nip98, never, Event.Verifier | SeenIds> =>
  Layer.effect(Nip98, make(options))
