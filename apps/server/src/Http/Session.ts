/**
 * Handler of `GET /auth/nip98` (differences.md §k): exchanges a NIP-98 `Authorization: Nostr <base64 event>` header
 * for a short-lived ES256K session token, accepted as a bearer token until it expires (`Auth.ts`). Public route.
 *
 * The URL the client must have signed is built from `server.public_url`, else the `Host` header, or with
 * `server.trust_proxy` the `X-Forwarded-Proto`/`X-Forwarded-Host` headers (`Nip98.requestUrl`), then the path and
 * query as received. Failures: `Nip98Rejected` → 401 `NIP-98: <reason>`; a key not allowed or login disabled →
 * 403; the replay store down → 500 (logged; the request cannot be judged).
 *
 * Needs the `@portal/jwt` `Sessions` service and `SessionSettings`.
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Forbidden, InternalError, Unauthorized } from "@portal/api/ApiError"
import { PortalApi } from "@portal/api/PortalApi"
import * as Jwt from "@portal/jwt/Jwt"
import * as Nip98 from "@portal/jwt/Nip98"
import { SeenIdsUnavailable } from "@portal/jwt/JwtError"
import * as SeenIds from "@portal/jwt/SeenIds"
import * as Session from "@portal/jwt/Session"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as Store from "@portal/store/Store"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { StartupError } from "../Secrets.js"

/**
 * How the public URL of a request is found (`server.public_url`, `server.trust_proxy`).
 * @category models
 */
export interface Settings {
  readonly publicUrl: string | undefined
  readonly trustProxy: boolean
}

/** @category tags */
export class SessionSettings extends Context.Tag("@portal/server/SessionSettings")<SessionSettings, Settings>() {}

/** @category layers */
export const layerSettings = (settings: Settings): Layer.Layer<SessionSettings> =>
  Layer.succeed(SessionSettings, settings)

const header = (request: HttpServerRequest.HttpServerRequest, name: string): string | undefined => request.headers[name]

/** @category layers */
export const SessionHandlers = HttpApiBuilder.group(PortalApi, "session", (handlers) =>
  Effect.gen(function* () {
    const sessions = yield* Session.Sessions
    const settings = yield* SessionSettings
    return handlers.handle("nip98", () =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const url = Nip98.requestUrl({
          publicUrl: settings.publicUrl,
          trustProxy: settings.trustProxy,
          host: header(request, "host"),
          forwardedProto: header(request, "x-forwarded-proto"),
          forwardedHost: header(request, "x-forwarded-host"),
          pathAndQuery: request.url
        })
        const session = yield* sessions.login({
          authorization: header(request, "authorization"),
          method: request.method,
          url
        })
        return { success: true as const, data: { token: session.token, expires_at: String(session.expiresAt) } }
      }).pipe(
        Effect.catchTags({
          Nip98Rejected: (e) => Effect.fail(new Unauthorized({ error: e.message })),
          Nip98KeyNotAllowed: (e) => Effect.fail(new Forbidden({ error: e.message })),
          Nip98Disabled: (e) => Effect.fail(new Forbidden({ error: e.message })),
          SeenIdsUnavailable: (e) =>
            Effect.zipRight(
              Effect.logError("NIP-98 replay store unavailable", e.cause),
              Effect.fail(new InternalError({ error: e.message }))
            )
        })
      )
    )
  })
)

/**
 * What the JWT routes, the NIP-98 exchange and bearer sessions need from the settings.
 * @category models
 */
export interface Options {
  /** The daemon's signing key pair. */
  readonly keys: Keys.KeyPair
  /** `auth.nip98_pubkeys`, hex or npub; empty disables NIP-98 login. */
  readonly nip98Pubkeys: ReadonlyArray<string>
  /** `auth.session_ttl_secs`. */
  readonly sessionTtlSecs: number
  /** `server.public_url`. */
  readonly publicUrl: Option.Option<string>
  /** `server.trust_proxy`. */
  readonly trustProxy: boolean
}

/**
 * `Jwt` (the daemon's key), `Sessions` and `SessionSettings` from the settings; needs the replay store
 * (`SeenIds`). An unparsable key in `auth.nip98_pubkeys` or a lifetime out of range is a `StartupError`.
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Jwt.Jwt | Session.Sessions | SessionSettings, StartupError, SeenIds.SeenIds> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const allowedKeys = yield* Effect.forEach(options.nip98Pubkeys, (key) =>
        Keys.parsePublicKey(key).pipe(
          Effect.mapError(
            (e) => new StartupError({ message: `Invalid configuration: auth.nip98_pubkeys: ${e.message}` })
          )
        )
      )
      const sessions = Session.layer({ keys: options.keys, allowedKeys, ttlSeconds: options.sessionTtlSecs }).pipe(
        Layer.mapError(
          (e) => new StartupError({ message: `Invalid configuration: auth.session_ttl_secs: ${e.detail}` })
        ),
        Layer.provide(Event.layerVerifier)
      )
      return Layer.mergeAll(
        Jwt.layer(options.keys),
        sessions,
        layerSettings({ publicUrl: Option.getOrUndefined(options.publicUrl), trustProxy: options.trustProxy })
      )
    })
  )

/**
 * NIP-98 replay ids in the store (scope `nip98`), so that instances sharing a database share them (§k step 8).
 * @category layers
 */
export const layerSeenIdsStore: Layer.Layer<SeenIds.SeenIds, never, Store.Store> = Layer.effect(
  SeenIds.SeenIds,
  Effect.map(Store.Store, (store) =>
    SeenIds.SeenIds.of({
      markSeen: (id, ttl) =>
        store.markSeen("nip98", id, ttl).pipe(Effect.mapError((cause) => new SeenIdsUnavailable({ cause })))
    })
  )
)
