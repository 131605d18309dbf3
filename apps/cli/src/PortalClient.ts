/**
 * The daemon's typed client, derived from the shared contract (`HttpApiClient.make(PortalApi)`): every route with
 * its decoded success and wire errors. The base URL comes from `--url` / `PORTAL_URL` (default
 * `http://127.0.0.1:3000`), the bearer token from `--token` / `PORTAL_TOKEN`; the token stays `Redacted` and is
 * only ever put into the `Authorization` header.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { PortalApi } from "@portal/api/PortalApi"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** @category options */
export const url = Options.text("url").pipe(
  Options.withFallbackConfig(Config.string("PORTAL_URL")),
  Options.withDefault("http://127.0.0.1:3000"),
  Options.withDescription("The daemon's base URL (env PORTAL_URL; default http://127.0.0.1:3000)")
)

/** @category options */
export const token = Options.redacted("token").pipe(
  Options.withFallbackConfig(Config.redacted("PORTAL_TOKEN")),
  Options.optional,
  Options.withDescription("The API token (env PORTAL_TOKEN; prefer the env var: arguments are visible to other users)")
)

/** @category options */
export const flags = { url, token }

/** @category models */
export interface Target {
  readonly url: string
  readonly token: Option.Option<Redacted.Redacted<string>>
}

const makeClient = (target: Target) =>
  HttpApiClient.make(PortalApi, {
    baseUrl: target.url.replace(/\/+$/, ""),
    transformClient: (client) =>
      Option.match(target.token, {
        onNone: () => client,
        onSome: (secret) => HttpClient.mapRequest(client, HttpClientRequest.bearerToken(Redacted.value(secret)))
      })
  })

/**
 * The typed client.
 * @category models
 */
export type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>

/**
 * A client for `target` over `fetch`.
 * @category constructors
 */
export const make = (target: Target): Effect.Effect<Client> =>
  makeClient(target).pipe(Effect.provide(FetchHttpClient.layer))

/**
 * What a call can fail with besides the route's own errors: transport, unexpected body.
 * @category errors
 */
export type ClientError =
  | import("@effect/platform/HttpClientError").HttpClientError
  | import("effect/ParseResult").ParseError
  | import("@portal/api/ApiError").ApiError
  | import("@effect/platform/HttpApiError").HttpApiDecodeError
