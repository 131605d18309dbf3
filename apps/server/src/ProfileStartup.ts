/**
 * What the daemon does with its `profile.*` settings at startup (protocol.md §15.2–15.3, rest-api.md §8.1 step 8):
 *
 * - **Publish** the profile as kind 0 (only the fields that are set, `Profiles.publish`) when any field is set. In
 *   subkey mode this is refused with one warning line (the profile belongs to the main key, which the daemon does
 *   not hold); never fatal.
 * - **Register** `profile.nip05` with getportal.cc when its domain is `getportal.cc`: a POST of a signed kind-1 event
 *   whose content is `{"nip_05":"<local part, lowercased and trimmed>"}`, once per configured nip05, remembered in the
 *   marker file `nip05_registered` of the data directory. A failure (no internet, a refusal) is one warning line and
 *   no marker, so the next start tries again.
 *
 * Both run in the background of the layer's scope: relays that are down or a registration host that hangs never
 * delay the HTTP server (the publication is queued by the relay pool until a relay connects).
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Path from "@effect/platform/Path"
import * as Profiles from "@portal/nostr/Profiles"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** The reference's registration endpoint. @category constants */
export const defaultRegistrationUrl = "https://profile.getportal.cc"

/** The marker file, in the data directory. @category constants */
export const markerFile = "nip05_registered"

/** @category options */
export interface Options {
  /** `profile.*` as configured. */
  readonly profile: {
    readonly name: Option.Option<string>
    readonly displayName: Option.Option<string>
    readonly picture: Option.Option<string>
    readonly nip05: Option.Option<string>
  }
  /** Subkey mode: publishing is refused. */
  readonly subkey: boolean
  readonly dataDir: string
  /** Where getportal.cc registrations go (default `https://profile.getportal.cc`; tests use a loopback stand-in). */
  readonly registrationUrl?: string | undefined
}

/**
 * The local part to register when `nip05` is on getportal.cc (`Alice@GetPortal.cc` → `alice`), else none.
 * @category helpers
 */
export const getportalName = (nip05: string): Option.Option<string> => {
  const at = nip05.lastIndexOf("@")
  if (
    at < 0 ||
    nip05
      .slice(at + 1)
      .trim()
      .toLowerCase() !== "getportal.cc"
  )
    return Option.none()
  const local = nip05.slice(0, at).trim().toLowerCase()
  return local === "" ? Option.none() : Option.some(local)
}

const publish = (options: Options) =>
  Effect.gen(function* () {
    const profiles = yield* Profiles.Profiles
    const { name, displayName, picture, nip05 } = options.profile
    const fields = {
      ...Option.match(name, { onNone: () => ({}), onSome: (name) => ({ name }) }),
      ...Option.match(displayName, { onNone: () => ({}), onSome: (displayName) => ({ displayName }) }),
      ...Option.match(picture, { onNone: () => ({}), onSome: (picture) => ({ picture }) }),
      ...Option.match(nip05, { onNone: () => ({}), onSome: (nip05) => ({ nip05 }) })
    }
    if (Object.keys(fields).length === 0) return
    if (options.subkey) {
      return yield* Effect.logWarning(
        "profile.*: not published: publishing the profile (kind 0) is refused in subkey mode (nostr.subkey_proof is " +
          "set); publish it with the main key"
      )
    }
    const result = yield* profiles.publish(fields)
    const accepted = result.outcomes.filter(RelayPool.Outcome.$is("Accepted")).length
    const queued = result.outcomes.filter(RelayPool.Outcome.$is("Queued")).length
    yield* Effect.logInfo(
      `Published the profile (kind 0, event ${result.eventId}): accepted by ${accepted} of ${result.outcomes.length} ` +
        `relay(s)${queued > 0 ? `, queued for ${queued} until they connect` : ""}`
    )
  }).pipe(Effect.catchAll((e) => Effect.logWarning(`profile.*: not published: ${e.message}`)))

const register = (options: Options, nip05: string, local: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const signer = yield* Signer.Signer
    const http = yield* HttpClient.HttpClient
    const marker = path.join(options.dataDir, markerFile)
    const done = yield* fs.readFileString(marker).pipe(
      Effect.map((text) => text.trim() === nip05),
      Effect.orElseSucceed(() => false)
    )
    if (done) return yield* Effect.logDebug(`profile.nip05: ${nip05} already registered (marker ${marker})`)
    const event = yield* Signer.signNow(signer, { kind: 1, content: JSON.stringify({ nip_05: local }) })
    const response = yield* HttpClientRequest.post(options.registrationUrl ?? defaultRegistrationUrl).pipe(
      HttpClientRequest.bodyText(JSON.stringify(event), "application/json"),
      http.execute,
      Effect.timeout("10 seconds"),
      Effect.scoped
    )
    if (response.status < 200 || response.status >= 300) {
      return yield* Effect.logWarning(
        `profile.nip05: registration of ${nip05} with getportal.cc refused (HTTP ${response.status}); retried at the ` +
          "next start"
      )
    }
    yield* fs.writeFileString(marker, nip05 + "\n")
    yield* Effect.logInfo(`profile.nip05: registered ${nip05} with getportal.cc (marker ${marker})`)
  }).pipe(
    Effect.catchAll((e) =>
      Effect.logWarning(
        `profile.nip05: registration of ${nip05} with getportal.cc failed (${e.message.split("\n")[0]}); retried ` +
          "at the next start"
      )
    )
  )

/**
 * Publishes and registers in the background of the layer's scope.
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  never,
  never,
  Profiles.Profiles | Signer.Signer | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* Effect.forkScoped(publish(options))
      const nip05 = Option.getOrUndefined(options.profile.nip05)?.trim()
      const local = nip05 === undefined ? Option.none<string>() : getportalName(nip05)
      if (nip05 !== undefined && Option.isSome(local)) yield* Effect.forkScoped(register(options, nip05, local.value))
    })
  )
