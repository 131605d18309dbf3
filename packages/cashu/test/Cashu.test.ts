import { assert, describe, it } from "@effect/vitest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Cashu from "@portal/cashu/Cashu"
import * as ProofStore from "@portal/cashu/ProofStore"
import * as Token from "@portal/cashu/Token"
import * as CashuMint from "@portal/testing/CashuMint"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Wallet from "@portal/wallet/Wallet"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const staticAuth = Redacted.make("ticket-office-secret")

/** The service over a real HTTP client, `wallet` for paying quotes and a fresh in-memory balance. */
const cashuWith = (wallet: Layer.Layer<Wallet.Wallet> = Wallet.layerNone) =>
  Cashu.make({ quotePaidTimeout: "5 seconds" }).pipe(
    Effect.provide(Layer.mergeAll(FetchHttpClient.layer, wallet, ProofStore.layerMemory))
  )

const ticketMint = CashuMint.make({ units: ["sat", "ticket"], staticAuthToken: staticAuth })

describe("Cashu", () => {
  it.scopedLive("mints tickets with static auth, burns them into the balance once, then reports already spent", () =>
    Effect.gen(function* () {
      const mint = yield* ticketMint
      const cashu = yield* cashuWith()
      const token = yield* cashu.mint({
        mintUrl: mint.url,
        unit: "ticket",
        amount: 2,
        staticAuthToken: staticAuth,
        description: "Concert"
      })
      const info = yield* Token.decode(token)
      assert.isTrue(token.startsWith("cashuB"))
      assert.deepStrictEqual([info.mintUrl, info.unit, info.amount, info.memo], [mint.url, "ticket", 2, "Concert"])
      assert.deepStrictEqual(yield* cashu.checkStates(token), Array(info.proofs).fill("UNSPENT"))

      const burned = yield* cashu.burn({ mintUrl: mint.url + "/", unit: "ticket", token })
      assert.strictEqual(burned.amount, 2)
      assert.deepStrictEqual(yield* cashu.balance, [{ mintUrl: mint.url, unit: "ticket", amount: 2 }])
      assert.deepStrictEqual(yield* cashu.checkStates(token), Array(info.proofs).fill("SPENT"))

      const again = yield* Effect.flip(cashu.burn({ mintUrl: mint.url, unit: "ticket", token }))
      assert.strictEqual(again._tag, "TokenAlreadySpent")
      assert.include(again.message, "already spent")
      assert.deepStrictEqual(yield* cashu.balance, [{ mintUrl: mint.url, unit: "ticket", amount: 2 }])
    })
  )

  it.scopedLive("pays a NUT-04 quote with the Wallet when the mint wants Lightning, and says so without one", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { mint: 0, daemon: 50_000 } })
      const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" } })
      const cashu = yield* cashuWith(SimulatedLightning.layerSimulated(network, "daemon"))
      const token = yield* cashu.mint({ mintUrl: mint.url, unit: "sat", amount: 21 })
      assert.strictEqual((yield* Token.decode(token)).amount, 21)
      assert.strictEqual(yield* network.balanceOf("mint"), 21_000)
      assert.strictEqual(yield* network.balanceOf("daemon"), 29_000)

      const broke = yield* Effect.flip(cashu.mint({ mintUrl: mint.url, unit: "sat", amount: 100 }))
      assert.strictEqual(broke._tag, "MintQuoteUnpaid")
      assert.strictEqual(broke._tag === "MintQuoteUnpaid" && broke.reason, "PaymentFailed")

      const none = yield* cashuWith()
      const unpaid = yield* Effect.flip(none.mint({ mintUrl: mint.url, unit: "sat", amount: 1 }))
      assert.strictEqual(unpaid._tag === "MintQuoteUnpaid" && unpaid.reason, "NoWallet")
    })
  )

  it.scopedLive("splits proofs into an exact token and change, and receives a token as new proofs", () =>
    Effect.gen(function* () {
      const mint = yield* ticketMint
      const cashu = yield* cashuWith()
      const token = yield* cashu.mint({ mintUrl: mint.url, unit: "ticket", amount: 5, staticAuthToken: staticAuth })
      const mine = yield* cashu.receive({ token, unit: "ticket" })
      assert.strictEqual(mine.amount, 5)
      const { token: three, keep } = yield* cashu.send({
        mintUrl: mint.url,
        unit: "ticket",
        amount: 3,
        proofs: mine.proofs
      })
      assert.strictEqual((yield* Token.decode(three)).amount, 3)
      assert.strictEqual(Token.sum(keep), 2)
      const spentAgain = yield* Effect.flip(
        cashu.send({ mintUrl: mint.url, unit: "ticket", amount: 3, proofs: mine.proofs })
      )
      assert.strictEqual(spentAgain._tag, "TokenAlreadySpent")
      const tooMuch = yield* Effect.flip(cashu.send({ mintUrl: mint.url, unit: "ticket", amount: 3, proofs: keep }))
      assert.strictEqual(tooMuch._tag, "InsufficientEcash")
      assert.strictEqual(tooMuch.message, "insufficient funds: 3 ticket needed, 2 available")
    })
  )

  it.scopedLive("reads and burns a legacy cashuA token", () =>
    Effect.gen(function* () {
      const mint = yield* ticketMint
      const cashu = yield* cashuWith()
      const token = yield* cashu.mint({ mintUrl: mint.url, unit: "ticket", amount: 3, staticAuthToken: staticAuth })
      const { proofs } = yield* cashu.receive({ token })
      // NUT-00 V3: "cashuA" + base64url of {"token":[{"mint","proofs"}],"unit","memo"}
      const legacy =
        "cashuA" +
        Buffer.from(JSON.stringify({ token: [{ mint: mint.url, proofs }], unit: "ticket", memo: "old" })).toString(
          "base64url"
        )
      const info = yield* Token.decode(legacy)
      assert.deepStrictEqual([info.mintUrl, info.unit, info.amount, info.memo], [mint.url, "ticket", 3, "old"])
      assert.strictEqual((yield* cashu.burn({ mintUrl: mint.url, unit: "ticket", token: legacy })).amount, 3)
    })
  )

  it.scopedLive("malformed tokens, mismatches, unknown units, bad URLs and unreachable mints are typed errors", () =>
    Effect.gen(function* () {
      const mint = yield* ticketMint
      const cashu = yield* cashuWith()
      const malformed = yield* Effect.flip(cashu.burn({ mintUrl: mint.url, unit: "sat", token: "cashuBnotatoken" }))
      assert.deepStrictEqual(
        [malformed._tag, malformed._tag === "InvalidToken" && malformed.reason],
        ["InvalidToken", "Malformed"]
      )
      const token = yield* cashu.mint({ mintUrl: mint.url, unit: "ticket", amount: 1, staticAuthToken: staticAuth })
      const wrongUnit = yield* Effect.flip(cashu.burn({ mintUrl: mint.url, unit: "sat", token }))
      assert.strictEqual(wrongUnit._tag === "InvalidToken" && wrongUnit.reason, "UnitMismatch")
      const wrongMint = yield* Effect.flip(cashu.burn({ mintUrl: "http://127.0.0.1:1", unit: "ticket", token }))
      assert.strictEqual(wrongMint._tag === "InvalidToken" && wrongMint.reason, "MintMismatch")

      const unknown = yield* Effect.flip(cashu.mint({ mintUrl: mint.url, unit: "eur", amount: 1 }))
      assert.strictEqual(unknown._tag, "UnknownUnit")
      assert.include(unknown.message, "sat, ticket")

      const unauthorized = yield* Effect.flip(cashu.mint({ mintUrl: mint.url, unit: "ticket", amount: 1 }))
      assert.deepStrictEqual(
        [unauthorized._tag, unauthorized._tag === "MintRejected" && unauthorized.code],
        ["MintRejected", 30001]
      )

      const badUrl = yield* Effect.flip(cashu.mint({ mintUrl: "ftp://mint", unit: "sat", amount: 1 }))
      assert.strictEqual(badUrl._tag, "InvalidMintUrl")
      const down = yield* Effect.flip(cashu.mint({ mintUrl: "http://127.0.0.1:1", unit: "sat", amount: 1 }))
      assert.strictEqual(down._tag, "MintUnreachable")
      assert.notInclude(down.message, "ticket-office-secret")

      // nothing was lost: the ticket is still spendable
      assert.strictEqual((yield* cashu.burn({ mintUrl: mint.url, unit: "ticket", token })).amount, 1)
    })
  )
})
