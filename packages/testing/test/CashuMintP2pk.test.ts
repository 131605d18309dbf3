import { assert, describe, it } from "@effect/vitest"
import {
  Amount,
  blindMessage,
  getEncodedToken,
  Mint,
  MintOperationError,
  OutputData,
  type P2PKOptions,
  type Proof,
  schnorrSignMessage,
  schnorrVerifyMessage,
  Wallet
} from "@cashu/cashu-ts"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import * as CashuMint from "@portal/testing/CashuMint"
import * as SimulatedLightning from "@portal/wallet/SimulatedLightning"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import { clearAuth } from "./clearAuth.js"

/** A fresh secp256k1 key pair, hex (public key compressed, as NUT-11 requires). */
const keyPair = () => {
  const secret = secp256k1.utils.randomSecretKey()
  return {
    priv: Buffer.from(secret).toString("hex"),
    pub: Buffer.from(secp256k1.getPublicKey(secret, true)).toString("hex")
  }
}

const sum = (proofs: ReadonlyArray<Proof>) => proofs.reduce((total, p) => total + p.amount.toNumber(), 0)

/** The NUT error of a mint call that must fail (a plain defect if the mint accepts it). */
const errorOf = <A>(promise: () => Promise<A>) =>
  Effect.tryPromise({ try: promise, catch: (e) => e }).pipe(
    Effect.matchEffect({
      onSuccess: () => Effect.dieMessage("the mint accepted what it should refuse"),
      onFailure: (e) =>
        Effect.succeed(
          e instanceof MintOperationError ? { code: e.code, detail: e.message } : { code: -1, detail: String(e) }
        )
    })
  )

/** A ticket mint, a wallet holding `amount` tickets, and a way to lock `n` of them with P2PK options. */
const setup = (amount: number) =>
  Effect.gen(function* () {
    const mint = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make("s3cret") })
    const issuer = yield* Effect.promise(async () => {
      const w = new Wallet(new Mint(mint.url, { customRequest: clearAuth("s3cret") }), { unit: "ticket" })
      await w.loadMint()
      return w
    })
    const quote = yield* Effect.promise(() => issuer.createMintQuoteBolt11(amount))
    let proofs = yield* Effect.promise(() => issuer.mintProofsBolt11(amount, quote))
    const holder = yield* Effect.promise(async () => {
      const w = new Wallet(mint.url, { unit: "ticket" })
      await w.loadMint()
      return w
    })
    /** Swaps `n` tickets into outputs locked with `options` (a real NUT-11 secret made by cashu-ts). */
    const lock = (n: number, options: P2PKOptions) =>
      Effect.promise(async () => {
        const { keep, send } = await issuer.send(n, proofs, {}, { send: { type: "p2pk", options } })
        proofs = keep
        return send
      })
    /** Swaps one ticket into an output with exactly `secret` (for secrets cashu-ts would refuse to build). */
    const lockRaw = (secret: string) =>
      Effect.promise(async () => {
        const raw = blindMessage(new TextEncoder().encode(secret))
        const output = new OutputData(
          { amount: Amount.from(1), B_: raw.B_.toHex(true), id: proofs[0]!.id },
          raw.r,
          raw.secret
        )
        const { keep, send } = await issuer.send(1, proofs, {}, { send: { type: "custom", data: [output] } })
        proofs = keep
        return send
      })
    return {
      mint,
      holder,
      lock,
      lockRaw,
      token: (p: ReadonlyArray<Proof>) => getEncodedToken({ mint: mint.url, unit: "ticket", proofs: [...p] })
    }
  })

/** The locked proofs with a witness signed by `priv` over each secret, whoever the lock names. */
const forge = (proofs: ReadonlyArray<Proof>, ...privs: ReadonlyArray<string>): Array<Proof> =>
  proofs.map((p) => ({ ...p, witness: { signatures: privs.map((k) => schnorrSignMessage(p.secret, k)) } }))

describe("CashuMint NUT-11 (P2PK)", () => {
  it.scopedLive("advertises NUT-10 and NUT-11", () =>
    Effect.gen(function* () {
      const { mint } = yield* setup(1)
      const info = yield* Effect.promise(() => new Mint(mint.url).getInfo())
      assert.deepStrictEqual([info.nuts["10"], info.nuts["11"]], [{ supported: true }, { supported: true }])
    })
  )

  it.scopedLive("a locked token needs the locked key's signature: none and another key's are refused", () =>
    Effect.gen(function* () {
      const { holder, lock, mint, token } = yield* setup(8)
      const alice = keyPair()
      const mallory = keyPair()
      const locked = yield* lock(5, { pubkey: alice.pub })
      assert.isTrue(locked.every((p) => p.secret.startsWith('["P2PK"')))
      const spentBefore = yield* mint.spentCount

      const unsigned = yield* errorOf(() => holder.receive(token(locked)))
      assert.strictEqual(unsigned.code, 10001)
      assert.include(unsigned.detail, "Witness is missing for p2pk signature")
      const forged = yield* errorOf(() => holder.receive(forge(locked, mallory.priv)))
      assert.strictEqual(forged.code, 10001)
      assert.include(forged.detail, "0 of 1")
      const flood = yield* errorOf(() => holder.receive(forge(locked, ...Array(33).fill(mallory.priv))))
      assert.include(flood.detail, "more than 32 signatures")
      assert.strictEqual(yield* mint.spentCount, spentBefore, "refused swaps spend nothing")

      const received = yield* Effect.promise(() => holder.receive(token(locked), { privkey: alice.priv }))
      assert.strictEqual(sum(received), 5)
      const states = yield* Effect.promise(() => holder.checkProofsStates(locked))
      for (const [i, state] of states.entries()) {
        assert.strictEqual(state.state, "SPENT")
        const [signature] = (JSON.parse(state.witness ?? "{}") as { signatures: Array<string> }).signatures
        assert.isTrue(
          schnorrVerifyMessage(signature!, locked[i]!.secret, alice.pub),
          "NUT-07 returns the witness the proof was spent with"
        )
      }
      const again = yield* errorOf(() => holder.receive(token(locked), { privkey: alice.priv }))
      assert.strictEqual(again.code, 11001)
    })
  )

  it.scopedLive("2-of-2 multisig needs both keys", () =>
    Effect.gen(function* () {
      const { holder, lock, token } = yield* setup(4)
      const [a, b] = [keyPair(), keyPair()]
      const locked = yield* lock(4, { pubkey: [a.pub, b.pub], requiredSignatures: 2 })
      const one = yield* errorOf(() => holder.receive(forge(locked, a.priv)))
      assert.strictEqual(one.code, 10001)
      assert.include(one.detail, "1 of 2")
      const twice = yield* errorOf(() => holder.receive(forge(locked, a.priv, a.priv)))
      assert.include(twice.detail, "1 of 2", "two signatures by one key count once")
      const received = yield* Effect.promise(() => holder.receive(token(locked), { privkey: [a.priv, b.priv] }))
      assert.strictEqual(sum(received), 4)
    })
  )

  it.scopedLive("the refund key spends only after the locktime; the lock key still can", () =>
    Effect.gen(function* () {
      const { holder, lock } = yield* setup(6)
      const [owner, refund] = [keyPair(), keyPair()]
      const nowSecs = Math.floor(Date.now() / 1000)
      const active = yield* lock(2, { pubkey: owner.pub, locktime: nowSecs + 3600, refundKeys: [refund.pub] })
      const early = yield* errorOf(() => holder.receive(forge(active, refund.priv)))
      assert.strictEqual(early.code, 10001)
      assert.include(early.detail, "0 of 1")

      const expired = yield* lock(2, { pubkey: owner.pub, locktime: nowSecs - 60, refundKeys: [refund.pub] })
      const stranger = yield* errorOf(() => holder.receive(forge(expired, keyPair().priv)))
      assert.include(stranger.detail, "0 of 1 refund keys")
      assert.strictEqual(sum(yield* Effect.promise(() => holder.receive(forge(expired, refund.priv)))), 2)
      const byOwner = yield* lock(2, { pubkey: owner.pub, locktime: nowSecs - 60, refundKeys: [refund.pub] })
      assert.strictEqual(sum(yield* Effect.promise(() => holder.receive(forge(byOwner, owner.priv)))), 2)
    })
  )

  it.scopedLive("an expired lock without refund keys is spendable by anyone", () =>
    Effect.gen(function* () {
      const { holder, lock, token } = yield* setup(2)
      const locked = yield* lock(2, { pubkey: keyPair().pub, locktime: Math.floor(Date.now() / 1000) - 60 })
      assert.strictEqual(sum(yield* Effect.promise(() => holder.receive(token(locked)))), 2)
    })
  )

  it.scopedLive("a malformed P2PK secret is unspendable even with the locked key's signature", () =>
    Effect.gen(function* () {
      const { holder, lockRaw } = yield* setup(4)
      const alice = keyPair()
      const secret = (tags: ReadonlyArray<ReadonlyArray<string>>) =>
        JSON.stringify(["P2PK", { nonce: randomBytes(16).toString("hex"), data: alice.pub, tags }])
      for (const [tags, why] of [
        [
          [
            ["sigflag", "SIG_INPUTS"],
            ["sigflag", "SIG_INPUTS"]
          ],
          "tag sigflag appears more than once"
        ],
        [[["sigflag", "SIG_NONE"]], "unknown sigflag SIG_NONE"],
        [[["n_sigs", "2"]], "n_sigs must be a positive integer ≤ 1"],
        [[["pubkeys", "03" + alice.pub.slice(2)]], "data/pubkeys: a key appears twice"]
      ] as const) {
        const locked = yield* lockRaw(secret(tags))
        const error = yield* errorOf(() => holder.receive(forge(locked, alice.priv)))
        assert.strictEqual(error.code, 10001)
        assert.include(error.detail, `P2PK secret is malformed: ${why}`)
      }
    })
  )

  it.scopedLive("the witness may be a JSON object as well as its string; a witness of another type is a 400", () =>
    Effect.gen(function* () {
      const { mint, lock } = yield* setup(2)
      const alice = keyPair()
      const [locked] = yield* lock(2, { pubkey: alice.pub })
      const swap = (witness: unknown) => {
        const raw = blindMessage(randomBytes(32))
        return Effect.promise(async () => {
          const response = await fetch(`${mint.url}/v1/swap`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({
              inputs: [{ id: locked!.id, amount: 2, secret: locked!.secret, C: locked!.C, witness }],
              outputs: [{ id: locked!.id, amount: 2, B_: raw.B_.toHex(true) }]
            })
          })
          return { status: response.status, body: (await response.json()) as { code?: number; detail?: string } }
        })
      }
      const wrongType = yield* swap(5)
      assert.strictEqual(wrongType.status, 400)
      assert.strictEqual(wrongType.body.code, 10000)
      assert.include(wrongType.body.detail, "witness")
      const ok = yield* swap({ signatures: [schnorrSignMessage(locked!.secret, alice.priv)] })
      assert.strictEqual(ok.status, 200)
      assert.strictEqual((ok.body as { signatures?: Array<unknown> }).signatures?.length, 1)
    })
  )

  it.scopedLive("SIG_ALL: one signature in the first input over inputs and outputs", () =>
    Effect.gen(function* () {
      const { holder, lock, token } = yield* setup(7)
      const alice = keyPair()
      const locked = yield* lock(7, { pubkey: alice.pub, sigFlag: "SIG_ALL" })
      assert.isAbove(locked.length, 1)
      const perInput = yield* errorOf(() => holder.receive(forge(locked, alice.priv)))
      assert.strictEqual(perInput.code, 10001, "signatures over each secret do not sign the outputs")
      const received = yield* Effect.promise(() => holder.receive(token(locked), { privkey: alice.priv }))
      assert.strictEqual(sum(received), 7)
    })
  )

  it.scopedLive("melt enforces the lock too", () =>
    Effect.gen(function* () {
      const network = yield* SimulatedLightning.makeNetwork({ wallets: { mint: 0, alice: 1_000_000, shop: 0 } })
      const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" }, feeReserveSat: 0 })
      const w = yield* Effect.promise(async () => {
        const wallet = new Wallet(mint.url, { unit: "sat" })
        await wallet.loadMint()
        return wallet
      })
      const quote = yield* Effect.promise(() => w.createMintQuoteBolt11(16))
      yield* Effect.orDie((yield* network.wallet("alice")).payInvoice(quote.request))
      const proofs = yield* Effect.promise(() => w.mintProofsBolt11(16, quote.quote))
      const alice = keyPair()
      const { send } = yield* Effect.promise(() =>
        w.send(16, proofs, {}, { send: { type: "p2pk", options: { pubkey: alice.pub } } })
      )
      const invoice = yield* Effect.orDie(
        (yield* network.wallet("shop")).makeInvoice({ amountMsat: 16_000 as never, description: "locked" })
      )
      const meltQuote = yield* Effect.promise(() => w.createMeltQuoteBolt11(invoice.bolt11))
      const unsigned = yield* errorOf(() => w.meltProofsBolt11(meltQuote, send))
      assert.strictEqual(unsigned.code, 10001)
      assert.include(unsigned.detail, "Witness is missing")
      assert.strictEqual(yield* network.balanceOf("shop"), 0)
      const melted = yield* Effect.promise(() => w.meltProofsBolt11(meltQuote, send, { privkey: alice.priv }))
      assert.strictEqual(melted.quote.state, "PAID")
      assert.strictEqual(yield* network.balanceOf("shop"), 16_000)
    })
  )
})
