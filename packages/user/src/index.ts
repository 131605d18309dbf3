/**
 * @portal/user: the user's side of every Portal conversation, what the Portal mobile app does, as an Effect
 * service. `User` sends key handshakes for `portal://` URLs and answers incoming requests through policies the
 * caller supplies (auth challenges in this version); `Auth` holds the challenge model, decisions and ready-made
 * policies; `UserError` the typed errors.
 *
 * @since 0.1.0
 */
export * as Auth from "./Auth.js"
export * as User from "./User.js"
export * as UserError from "./UserError.js"
