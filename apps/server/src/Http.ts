/**
 * The HTTP application: `PortalApi` with every group's handlers, the contract's middleware (bearer auth, JSON body
 * checks) and the error edge (`Http/Errors.ts`), served by whichever `HttpServer` is provided (the real Node server in
 * `main.ts`, a random-port test server in tests).
 *
 * Needs: `BuildInfoTag`, `ServerIdentity`, `ApiToken` (Auth.ts), `HttpSettings`, and `Jwt`, `Sessions`,
 * `SessionSettings` (`Http/Session.ts` `layer`),
 * and `Streams`, `Handshakes`, `KeyAuth`, `Relays` (`Services.ts` `layer`).
 *
 * @since 0.1.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServer from "@effect/platform/HttpServer"
import { PortalApi } from "@portal/api/PortalApi"
import * as Layer from "effect/Layer"
import { AuthorizationLayer } from "./Auth.js"
import { JsonBodyLayer, OptionalJsonBodyLayer } from "./Http/Body.js"
import { CalendarHandlers } from "./Http/Calendar.js"
import { CashuHandlers } from "./Http/Cashu.js"
import { DocsHandlers } from "./Http/Docs.js"
import { EventsHandlers } from "./Http/Events.js"
import { ErrorsLayer } from "./Http/Errors.js"
import { IdentityHandlers } from "./Http/Identity.js"
import { InvoicesHandlers } from "./Http/Invoices.js"
import { KeysHandlers } from "./Http/Keys.js"
import { PaymentsHandlers } from "./Http/Payments.js"
import { JwtHandlers } from "./Http/Jwt.js"
import { RelaysHandlers } from "./Http/Relays.js"
import { SessionHandlers } from "./Http/Session.js"
import { SystemHandlers } from "./Http/System.js"
import { WalletHandlers } from "./Http/Wallet.js"

/** The implementations of the contract's middleware tags. */
export const MiddlewareLayer = Layer.mergeAll(AuthorizationLayer, JsonBodyLayer, OptionalJsonBodyLayer)

/** Every group's handlers. */
export const HandlersLayer = Layer.mergeAll(
  SystemHandlers,
  DocsHandlers,
  IdentityHandlers,
  CalendarHandlers,
  KeysHandlers,
  RelaysHandlers,
  EventsHandlers,
  JwtHandlers,
  SessionHandlers,
  PaymentsHandlers,
  InvoicesHandlers,
  WalletHandlers,
  CashuHandlers
).pipe(Layer.provide(MiddlewareLayer))

/** Every group of the API with its handlers. */
export const ApiLayer = HttpApiBuilder.api(PortalApi).pipe(Layer.provide(HandlersLayer))

/** The served application; needs an `HttpServer` and the services the handlers use. */
export const HttpLayer = HttpApiBuilder.serve().pipe(
  HttpServer.withLogAddress,
  Layer.provide(ErrorsLayer),
  Layer.provide(ApiLayer)
)
