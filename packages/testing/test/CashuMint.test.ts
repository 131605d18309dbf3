import { assert, describe, it } from "@effect/vitest"
import { getEncodedToken, getTokenMetadata, Mint, MintOperationError, type Proof, Wallet } from "@cashu/cashu-ts"
import * as CashuMint from "@portal/testing/CashuMint"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { clearAuth } from "./clearAuth.js"

const wallet = (url: string, unit: string, token?: string) =>
  Effect.promise(async () => {
    const w = new Wallet(token === undefined ? url : new Mint(url, { customRequest: clearAuth(token) }), { unit })
    await w.loadMint()
    return w
  })

/** The NUT error code of a failed mint call. */
const codeOf = <A>(promise: () => Promise<A>) =>
  Effect.tryPromise({ try: promise, catch: (e) => e }).pipe(
    Effect.flip,
    Effect.map((e) => (e instanceof MintOperationError ? e.code : -1))
  )

const sum = (proofs: ReadonlyArray<Proof>) => proofs.reduce((total, p) => total + p.amount.toNumber(), 0)

describe("CashuMint", () => {
  it.scopedLive("issues a custom-unit ticket with static auth; a swapped token cannot be received twice", () =>
    Effect.gen(function* () {
      const mint = yield* CashuMint.make({ units: ["sat", "ticket"], staticAuthToken: Redacted.make("s3cret") })
      const issuer = yield* wallet(mint.url, "ticket", "s3cret")
      const quote = yield* Effect.promise(() => issuer.createMintQuoteBolt11(3, "Concert"))
      assert.strictEqual(quote.state, "PAID")
      const proofs = yield* Effect.promise(() => issuer.mintProofsBolt11(3, quote))
      assert.strictEqual(sum(proofs), 3)
      assert.isTrue(proofs.every((p) => p.dleq !== undefined))
      const token = getEncodedToken({ mint: mint.url, unit: "ticket", proofs })
      assert.isTrue(token.startsWith("cashuB"))
      assert.strictEqual(getTokenMetadata(token).unit, "ticket")

      const holder = yield* wallet(mint.url, "ticket")
      const received = yield* Effect.promise(() => holder.receive(token))
      assert.strictEqual(sum(received), 3)
      assert.strictEqual(yield* codeOf(() => holder.receive(token)), 11001)
      const states = yield* Effect.promise(() => holder.checkProofsStates(proofs))
      assert.deepStrictEqual(
        states.map((s) => s.state),
        proofs.map(() => "SPENT")
      )
      const fresh = yield* Effect.promise(() => holder.checkProofsStates(received))
      assert.isTrue(fresh.every((s) => s.state === "UNSPENT"))
      assert.strictEqual(yield* mint.spentCount, proofs.length)
    })
  )

  it.scopedLive("of two concurrent swaps of the same proofs, exactly one succeeds", () =>
    Effect.gen(function* () {
      const mint = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make("s3cret") })
      const issuer = yield* wallet(mint.url, "ticket", "s3cret")
      const quote = yield* Effect.promise(() => issuer.createMintQuoteBolt11(8))
      const proofs = yield* Effect.promise(() => issuer.mintProofsBolt11(8, quote))
      const token = getEncodedToken({ mint: mint.url, unit: "ticket", proofs })
      const [a, b] = [yield* wallet(mint.url, "ticket"), yield* wallet(mint.url, "ticket")]
      const results = yield* Effect.all(
        [a, b].map((w) => Effect.either(Effect.tryPromise(() => w.receive(token)))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter((r) => r._tag === "Right").length, 1)
      assert.strictEqual(yield* mint.spentCount, proofs.length)
    })
  )

  it.scopedLive("an unpaid quote expires (20007)", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { mint: 0 } })
      const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" }, quoteExpirySecs: 1 })
      const w = yield* wallet(mint.url, "sat")
      const quote = yield* Effect.promise(() => w.createMintQuoteBolt11(5))
      assert.strictEqual(yield* codeOf(() => w.mintProofsBolt11(5, quote.quote)), 20001)
      const code = yield* codeOf(() => w.mintProofsBolt11(5, quote.quote)).pipe(
        Effect.filterOrFail((c) => c === 20007),
        Effect.retry(Schedule.spaced("200 millis")),
        Effect.timeout("5 seconds")
      )
      assert.strictEqual(code, 20007)
    })
  )

  it.scopedLive("refuses a wrong static token, a custom unit without one, and an unknown unit", () =>
    Effect.gen(function* () {
      const mint = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make("s3cret") })
      const wrong = yield* wallet(mint.url, "ticket", "guess")
      assert.strictEqual(yield* codeOf(() => wrong.createMintQuoteBolt11(1)), 30002)
      const anonymous = yield* wallet(mint.url, "ticket")
      assert.strictEqual(yield* codeOf(() => anonymous.createMintQuoteBolt11(1)), 30001)
      const raw = new Mint(mint.url)
      assert.strictEqual(yield* codeOf(() => raw.createMintQuoteBolt11({ amount: 1, unit: "eur" })), 11013)
    })
  )

  it.scopedLive("mints sat against a real BOLT11 invoice paid on the simulated network, then melts with change", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { mint: 0, alice: 1_000_000, shop: 0 } })
      const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" }, feeReserveSat: 4 })
      const w = yield* wallet(mint.url, "sat")
      const quote = yield* Effect.promise(() => w.createMintQuoteBolt11(100))
      assert.strictEqual(quote.state, "UNPAID")
      assert.isTrue(quote.request.startsWith("lnbc1u1"))
      assert.strictEqual(yield* codeOf(() => w.mintProofsBolt11(100, quote.quote)), 20001)
      yield* Effect.orDie((yield* network.wallet("alice")).payInvoice(quote.request))
      const paid = yield* Effect.promise(() => w.checkMintQuoteBolt11(quote.quote))
      assert.strictEqual(paid.state, "PAID")
      const proofs = yield* Effect.promise(() => w.mintProofsBolt11(100, quote.quote))
      assert.strictEqual(sum(proofs), 100)
      assert.strictEqual(yield* codeOf(() => w.mintProofsBolt11(100, quote.quote)), 20002)
      assert.strictEqual(yield* network.balanceOf("mint"), 100_000)

      const invoice = yield* Effect.orDie(
        (yield* network.wallet("shop")).makeInvoice({ amountMsat: 40_000 as never, description: "coffee" })
      )
      const meltQuote = yield* Effect.promise(() => w.createMeltQuoteBolt11(invoice.bolt11))
      assert.strictEqual(meltQuote.amount.toNumber(), 40)
      assert.strictEqual(meltQuote.fee_reserve.toNumber(), 4)
      const { send, keep } = yield* Effect.promise(() =>
        w.send(meltQuote.amount.add(meltQuote.fee_reserve), proofs, { includeFees: true })
      )
      const melted = yield* Effect.promise(() => w.meltProofsBolt11(meltQuote, send))
      assert.strictEqual(melted.quote.state, "PAID")
      assert.strictEqual(sum(melted.change), 4, "the unused fee reserve comes back as change")
      assert.strictEqual(yield* network.balanceOf("shop"), 40_000)
      assert.strictEqual(sum(keep) + sum(melted.change), 60, "100 minted − 40 paid, no Lightning fee")
      assert.strictEqual(yield* codeOf(() => w.meltProofsBolt11(meltQuote, send)), 20006)
    })
  )

  it.scopedLive("markPaid issues a quote without a payment; rotated keysets stay readable but sign nothing", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { mint: 0 } })
      const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" } })
      const w = yield* wallet(mint.url, "sat")
      const quote = yield* Effect.promise(() => w.createMintQuoteBolt11(5))
      yield* mint.markPaid(quote.quote)
      const proofs = yield* Effect.promise(() => w.mintProofsBolt11(5, quote.quote))
      const old = proofs[0]!.id
      const next = yield* mint.rotateKeyset("sat")
      assert.notStrictEqual(next, old)
      const keysets = yield* Effect.promise(() => new Mint(mint.url).getKeySets())
      assert.deepStrictEqual(
        keysets.keysets.map((k) => [k.id, k.active]),
        [
          [old, false],
          [next, true]
        ]
      )
      const refreshed = yield* wallet(mint.url, "sat")
      const swapped = yield* Effect.promise(() => refreshed.receive(getEncodedToken({ mint: mint.url, proofs })))
      assert.isTrue(
        swapped.every((p) => p.id === next),
        "old proofs swap into the active keyset"
      )
      const error = yield* Effect.flip(mint.markPaid("nope"))
      assert.strictEqual(error.reason, "UnknownQuote")
    })
  )
})
