/**
 * The user's side as one scoped value: `@portal/user` `User` (handshake, auth, payments, subscriptions, invoices)
 * and `Ecash` (Cashu requests and direct tokens), over one relay pool and the user's key, paying with the given
 * wallet (the sandbox's simulated one, an NWC wallet, or none).
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cashu from "@portal/cashu/Cashu"
import * as ProofStore from "@portal/cashu/ProofStore"
import * as Conversation from "@portal/nostr/Conversation"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as Ecash from "@portal/user/Ecash"
import * as User from "@portal/user/User"
import * as Wallet from "@portal/wallet/Wallet"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Output from "./Output.js"

/**
 * The user's services.
 * @category models
 */
export interface UserSide {
  readonly user: User.Service
  readonly ecash: Ecash.Service
}

/**
 * Builds the user side for the scope.
 * @category constructors
 */
export const make = (options: {
  readonly secretKey: Redacted.Redacted<string>
  readonly relays: ReadonlyArray<string>
  /** The wallet that pays and makes invoices; none when absent. */
  readonly wallet: Layer.Layer<Wallet.Wallet, Output.CliError>
}) =>
  Effect.gen(function* () {
    const PoolLayer = RelayPool.layerNode({ relays: options.relays })
    const context = yield* Layer.build(
      Layer.unwrapEffect(
        Effect.map(Wallet.Wallet, (wallet) =>
          User.layerLocal({ secretKey: options.secretKey, subscribeWait: "2 seconds", wallet })
        )
      ).pipe(
        Layer.provideMerge(options.wallet),
        Layer.provideMerge(PoolLayer),
        Layer.mapError((e) => (e instanceof Output.CliError ? e : new Output.CliError({ message: e.message })))
      )
    )
    const user = Context.get(context, User.User)
    const signer = Context.get(context, Signer.Signer)
    const pool = Context.get(context, RelayPool.RelayPool)
    const cashu = yield* Cashu.make().pipe(
      Effect.provide(Layer.mergeAll(FetchHttpClient.layer, Wallet.layerNone, ProofStore.layerMemory))
    )
    const conversations = yield* Conversation.make({ subscribeWait: "2 seconds" }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool)
    )
    const ecash = yield* Ecash.make({ subscribeWait: "2 seconds" }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool),
      Effect.provideService(Conversation.Conversations, conversations),
      Effect.provideService(Cashu.Cashu, cashu)
    )
    return { user, ecash } satisfies UserSide
  })

/**
 * No wallet: payment requests fail and invoice requests cannot be answered.
 * @category wallets
 */
export const noWallet: Layer.Layer<Wallet.Wallet, Output.CliError> = Wallet.layerNone

/**
 * An NWC wallet.
 * @category wallets
 */
export const nwcWallet = (url: Redacted.Redacted<string>): Layer.Layer<Wallet.Wallet, Output.CliError> =>
  Wallet.layerNwc({ url }).pipe(
    Layer.mapError((e) => new Output.CliError({ message: `the user's NWC wallet: ${e.message}` }))
  )

/**
 * A wallet already running in this process.
 * @category wallets
 */
export const existingWallet = (wallet: Wallet.Service): Layer.Layer<Wallet.Wallet, Output.CliError> =>
  Layer.succeed(Wallet.Wallet, wallet)
