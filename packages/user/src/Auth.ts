/**
 * The authentication conversation from the user's side (protocol.md §5.2, §5.3, §7, §20.2): the challenges a
 * service sends (kind 27000) as the user sees them, the decisions a policy takes about them, and ready-made
 * policies.
 *
 * A challenge reaches a policy only after the checks the Portal app makes: signature and id (the relay pool),
 * addressed to us, decrypted and decoded, not expired (`expires_at ≥ now`), and, when it carries a subkey proof,
 * the proof verifies against the signing key (inside its validity window ±60 s). The service is then the proof's
 * main key, else the signing key; replies go to the signing key (`recipient`).
 *
 * @since 0.1.0
 */
import type * as Event from "@portal/nostr/Event"
import type { PublicKeyHex, UnixSeconds } from "@portal/protocol/Primitives"
import type * as Subkey from "@portal/protocol/Subkey"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"

/**
 * What the Portal app answers when the user says no.
 * @category constants
 */
export const DEFAULT_DECLINE_REASON = "Not approved by user"

/**
 * An auth challenge that passed every check (see the module comment).
 * @category models
 */
export interface AuthChallenge {
  /** The 27000 event's id: the identity of the request (one answer per id). */
  readonly eventId: string
  /** The service's main key: the subkey proof's `main_key`, else the signing key. */
  readonly serviceKey: PublicKeyHex
  /** The key that signed the challenge; the answer is encrypted to it. */
  readonly recipient: PublicKeyHex
  readonly challenge: string
  readonly expiresAt: UnixSeconds
  /** Always `[]` in practice; the Portal app neither shows nor checks it. */
  readonly requiredPermissions: ReadonlyArray<string>
  /** The service's subkey proof (already verified), when it signs with a subkey. */
  readonly subkeyProof: Option.Option<Subkey.SubkeyProof>
  readonly event: Event.NostrEvent
}

/**
 * What to do with a challenge.
 * - `Approve`: reply `approved`. Without `sessionToken` the user side issues the Portal app's token, a JWT for the
 *   service key signed by the user and valid 168 h; `grantedPermissions` defaults to `[]`.
 * - `Decline`: reply `declined` with `reason` (default "Not approved by user").
 * - `Ignore`: send nothing, as when the app's user lets the challenge expire; the service sees its timeout.
 * @category models
 */
export type AuthDecision = Data.TaggedEnum<{
  Approve: {
    readonly sessionToken?: string | undefined
    readonly grantedPermissions?: ReadonlyArray<string> | undefined
  }
  Decline: { readonly reason?: string | undefined }
  Ignore: {}
}>

/**
 * Constructors and matchers of `AuthDecision`.
 * @category models
 */
export const AuthDecision = Data.taggedEnum<AuthDecision>()

/**
 * A decision that sends a reply (`respond` takes these).
 * @category models
 */
export type AuthAnswer = Exclude<AuthDecision, { readonly _tag: "Ignore" }>

/**
 * Approve, with the default session token unless one is given.
 * @category constructors
 */
export const approve = (
  options: { readonly sessionToken?: string; readonly grantedPermissions?: ReadonlyArray<string> } = {}
): AuthAnswer => AuthDecision.Approve(options)

/**
 * Decline, with the Portal app's reason unless one is given.
 * @category constructors
 */
export const decline = (reason?: string): AuthAnswer => AuthDecision.Decline({ reason })

/**
 * Send nothing.
 * @category constructors
 */
export const ignore: AuthDecision = AuthDecision.Ignore()

/**
 * Decides about one challenge. A failure is logged and nothing is sent (the service sees its timeout).
 * @category models
 */
export type AuthPolicy<E = never> = (challenge: AuthChallenge) => Effect.Effect<AuthDecision, E>

/**
 * Approves every challenge with the default session token.
 * @category policies
 */
export const approveAll: AuthPolicy = () => Effect.succeed(approve())

/**
 * Declines every challenge.
 * @category policies
 */
export const declineAll =
  (reason?: string): AuthPolicy =>
  () =>
    Effect.succeed(decline(reason))

/**
 * Approves challenges from the listed service keys and declines the rest.
 * @category policies
 */
export const approveOnly = (serviceKeys: Iterable<string>, reason?: string): AuthPolicy => {
  const allowed = new Set(serviceKeys)
  return (challenge) => Effect.succeed(allowed.has(challenge.serviceKey) ? approve() : decline(reason))
}
