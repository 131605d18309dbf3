/**
 * The daemon's settings, read through Effect `Config` from the provider `main.ts` installs
 * (env `PORTAL__SECTION__KEY`, rest-api.md §7 and differences.md §New configuration keys).
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"

/**
 * `PORTAL__INFO__LISTEN_PORT` → `info.listen_port`: env names are the config path in constant case under `PORTAL`,
 * joined by `__`.
 * @category providers
 */
export const fromEnv: ConfigProvider.ConfigProvider = ConfigProvider.fromEnv({ pathDelim: "__", seqDelim: "," }).pipe(
  ConfigProvider.constantCase,
  ConfigProvider.nested("PORTAL")
)

/**
 * Where the HTTP server listens: `info.listen_host` (default `0.0.0.0`) and `info.listen_port` (default 3000).
 * @category config
 */
export const listen = Config.all({
  host: Config.string("listen_host").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("listen_port").pipe(Config.withDefault(3000))
}).pipe(Config.nested("info"))
