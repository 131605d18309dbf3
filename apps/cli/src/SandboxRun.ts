/**
 * The implementation of `portal sandbox` (see `Commands/Sandbox.ts`), loaded only when that command runs: the
 * sandbox embeds the daemon, the relay, the simulated Lightning network and the mint.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Demo from "./Demo.js"
import * as Output from "./Output.js"
import * as Sandbox from "./Sandbox.js"

/**
 * Starts the sandbox, prints how to reach it, then runs the demo or waits for Ctrl-C.
 * @category running
 */
export const run = (flags: Output.Flags & { readonly port: number; readonly demo: boolean }) =>
  Effect.gen(function* () {
    yield* Output.note(flags, "starting the sandbox (relay, simulated Lightning, daemon)…")
    const sandbox = yield* Sandbox.make({ port: flags.port })
    const token = Redacted.value(sandbox.token)
    const nwc = Redacted.value(sandbox.userNwcUrl)
    yield* Output.print(
      flags,
      [
        "Portal sandbox is up (Ctrl-C stops it and removes everything).",
        `  daemon       ${sandbox.url}`,
        `  relay        ${sandbox.relayUrl}`,
        `  user wallet  simulated, ${Sandbox.USER_BALANCE_MSAT} msat (NWC URI in the export block)`,
        `  Cashu mint   ${Option.getOrElse(sandbox.mintUrl, () => "none")} (units sat, ticket)`,
        `  data dir     ${sandbox.dataDir}`,
        "",
        `export PORTAL_URL=${sandbox.url}`,
        `export PORTAL_TOKEN=${token}`,
        `export PORTAL_USER_NWC_URL='${nwc}'`,
        ...Option.match(sandbox.mintUrl, {
          onNone: () => [],
          onSome: (url) => [
            `export PORTAL_MINT_URL=${url}`,
            `export PORTAL_MINT_STATIC_AUTH=${Redacted.value(sandbox.mintStaticAuth)}`
          ]
        })
      ],
      {
        url: sandbox.url,
        token,
        relay_url: sandbox.relayUrl,
        user_nwc_url: nwc,
        mint_url: Option.getOrNull(sandbox.mintUrl),
        mint_static_auth: Redacted.value(sandbox.mintStaticAuth),
        data_dir: sandbox.dataDir
      }
    )
    if (flags.demo) return yield* Demo.run(sandbox, flags)
    yield* Output.note(flags, "\ntry:  portal handshake   (in another terminal, after the export lines above)")
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.ensuring(Output.note(flags, "sandbox stopped")))
