/**
 * @portal/user: the user's side of every Portal conversation, what the Portal mobile app does, as an Effect
 * service. `User` sends key handshakes for `portal://` URLs and answers incoming requests through policies the
 * caller supplies: auth challenges (`Auth`), single payments paid with the user's own `Wallet` (`Payments`),
 * subscriptions and their billed periods (`Recurring`) and invoice requests (`Invoices`), each module holding the
 * request model, decisions and ready-made policies; `UserError` the typed errors. `Ecash` is a standalone service:
 * the user's Cashu balance, answering Cashu requests and receiving direct tokens.
 *
 * @since 0.1.0
 */
export * as Auth from "./Auth.js"
export * as Ecash from "./Ecash.js"
export * as Invoices from "./Invoices.js"
export * as Payments from "./Payments.js"
export * as Recurring from "./Recurring.js"
export * as User from "./User.js"
export * as UserError from "./UserError.js"
