/**
 * The `identity` group: the daemon's own key (`GET /info`) and lookups of other people's profiles
 * (`GET /profile/{main_key}`, `GET /nip05/{nip05}`). Bearer auth.
 *
 * @since 0.1.0
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Primitives from "@portal/protocol/Primitives"
import * as Schema from "effect/Schema"
import * as ApiError from "./ApiError.js"
import * as Envelope from "./Envelope.js"
import * as Inputs from "./Inputs.js"
import { Authorization } from "./Middleware.js"

/**
 * `public_key` is the signing key (the subkey when a subkey proof is configured).
 * @category models
 */
export const Info = Schema.Struct({
  public_key: Primitives.PublicKeyHex,
  version: Schema.String,
  git_commit: Schema.String
}).annotations({ identifier: "Info" })

const nullableString = Schema.NullOr(Schema.String)

/**
 * A kind-0 profile as the daemon returns it; `nip05` is null unless verified.
 * @category models
 */
export const Profile = Schema.Struct({
  name: nullableString,
  display_name: nullableString,
  picture: nullableString,
  nip05: nullableString
}).annotations({ identifier: "Profile" })

/** @category models */
export const ProfileResponse = Schema.Struct({ profile: Schema.NullOr(Profile) }).annotations({
  identifier: "ProfileResponse"
})

/** @category models */
export const Nip05Profile = Schema.Struct({
  public_key: Primitives.PublicKeyHex,
  relays: Schema.Array(Schema.String),
  nip46: Schema.Array(Schema.String)
}).annotations({ identifier: "Nip05Profile" })

/** @category models */
export const Nip05Response = Schema.Struct({ profile: Nip05Profile }).annotations({ identifier: "Nip05Response" })

/** @category groups */
export class IdentityApi extends HttpApiGroup.make("identity")
  .add(
    HttpApiEndpoint.get("info", "/info")
      .addSuccess(Envelope.Success(Info))
      .middleware(Authorization)
      .annotate(OpenApi.Description, "The daemon's signing key, version and git commit.")
  )
  .add(
    HttpApiEndpoint.get("profile", "/profile/:main_key")
      .setPath(Schema.Struct({ main_key: Inputs.MainKeyParam }))
      .addSuccess(Envelope.Success(ProfileResponse))
      .addError(ApiError.BadGatewayResponse)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Fetches a user's kind-0 profile from the relays (null when none).")
  )
  .add(
    HttpApiEndpoint.get("nip05", "/nip05/:nip05")
      .setPath(Schema.Struct({ nip05: Inputs.Nip05Identifier }))
      .addSuccess(Envelope.Success(Nip05Response))
      .addError(ApiError.BadGatewayResponse)
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Resolves a NIP-05 identifier (`name@domain`, `@` may be `%40`).")
  ) {}
