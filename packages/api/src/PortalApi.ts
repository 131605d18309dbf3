/**
 * `PortalApi`: the daemon's HTTP contract, declared once and shared by the server (HttpApiBuilder), the CLI and
 * clients (HttpApiClient), and the generated OpenAPI document.
 *
 * @since 0.1.0
 */
import * as HttpApi from "@effect/platform/HttpApi"
import { SystemApi } from "./SystemApi.js"

/** @category api */
export class PortalApi extends HttpApi.make("portal").add(SystemApi) {}
