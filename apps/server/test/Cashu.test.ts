/**
 * Cashu end to end: the real daemon (HTTP on loopback, SQLite file, loopback relay, `nwc` wallet over a real NIP-47
 * service on a simulated Lightning network), a real Cashu mint on loopback (`@portal/testing` `CashuMint`, static auth
 * for tickets, bolt11 for sat on the same network) and a user holding ecash with `@portal/user` `Ecash`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { assert, describe, layer } from "@effect/vitest"
import * as Cashu from "@portal/cashu/Cashu"
import * as ProofStore from "@portal/cashu/ProofStore"
import * as Token from "@portal/cashu/Token"
import * as Conversation from "@portal/nostr/Conversation"
import * as Event from "@portal/nostr/Event"
import * as Keys from "@portal/nostr/Keys"
import * as RelayPool from "@portal/nostr/RelayPool"
import * as Signer from "@portal/nostr/Signer"
import * as CashuMint from "@portal/testing/CashuMint"
import * as TestRelay from "@portal/testing/TestRelay"
import * as Ecash from "@portal/user/Ecash"
import * as Wallet from "@portal/wallet/Wallet"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { PortalApi } from "@portal/api/PortalApi"
import { Amount } from "@portal/protocol/Primitives"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { awaitEvents, post, started, startShop, type WireEvent } from "./PaymentsHarness.js"
import { token } from "./HttpServerTest.js"

const staticAuth = "box-office-secret"

/** A user with its own key and pool, holding ecash and serving Cashu requests with `policy`. */
const startEcashUser = (relay: string, policy: Ecash.Policy) =>
  Effect.gen(function* () {
    const keys = yield* Keys.generate
    const signer = yield* Signer.makeLocal(keys)
    const pool = yield* RelayPool.make({ relays: [relay], backoff: { initial: "40 millis" } }).pipe(
      Effect.provide(Layer.merge(Event.layerVerifier, NodeSocket.layerWebSocketConstructor))
    )
    yield* pool.awaitOpen().pipe(Effect.timeout("5 seconds"))
    const cashu = yield* Cashu.make().pipe(
      Effect.provide(Layer.mergeAll(FetchHttpClient.layer, Wallet.layerNone, ProofStore.layerMemory))
    )
    const conversations = yield* Conversation.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool)
    )
    const ecash = yield* Ecash.make({ subscribeWait: "1 second" }).pipe(
      Effect.provideService(Signer.Signer, signer),
      Effect.provideService(RelayPool.RelayPool, pool),
      Effect.provideService(Conversation.Conversations, conversations),
      Effect.provideService(Cashu.Cashu, cashu)
    )
    yield* ecash.serve(policy)
    return { key: keys.publicKey, ecash }
  })

const awaitBalance = (ecash: Ecash.Service, unit: string, amount: number) =>
  ecash.changes.pipe(
    Stream.filter((balances) => balances.some((b) => b.unit === unit && b.amount === amount)),
    Stream.runHead,
    Effect.timeout("10 seconds"),
    Effect.orDie
  )

const dataOf = <A>(response: { readonly json: unknown }) => (response.json as { data: A }).data
const errorOf = (response: { readonly json: unknown }) => (response.json as { error: string }).error

/** The `status` object of the stream's `cashu_response`. */
const cashuStatus = (events: ReadonlyArray<WireEvent>) => {
  const event = events.find((e) => e.type === "cashu_response")
  assert.isDefined(event, JSON.stringify(events))
  return event!["status"] as { status: string; token?: string; reason?: string | null }
}

const settled = (events: ReadonlyArray<WireEvent>) =>
  events.some((e) => e.type === "cashu_response" || e.type === "error")

describe("cashu", () => {
  layer(TestRelay.layer, { excludeTestServices: true })((it) => {
    it.scoped("ticket flow: mint with static auth → send direct → request back → burn → burning again is 400", () =>
      Effect.gen(function* () {
        const { relay, daemon } = yield* startShop()
        const mint = yield* CashuMint.make({ units: ["sat", "ticket"], staticAuthToken: Redacted.make(staticAuth) })
        let decline = false
        const user = yield* startEcashUser(relay, () =>
          Effect.succeed(decline ? { _tag: "Reject" as const } : { _tag: "Approve" as const })
        )
        yield* daemon.http(
          Effect.gen(function* () {
            const minted = yield* post("/cashu/mint", {
              mint_url: mint.url,
              unit: "ticket",
              amount: 2,
              static_auth_token: staticAuth,
              description: "Concert"
            })
            assert.strictEqual(minted.status, 200, minted.text)
            const ticket = dataOf<{ token: string }>(minted).token
            assert.match(ticket, /^cashuB/)
            assert.strictEqual((yield* Token.decode(ticket)).amount, 2)

            const sent = yield* post("/cashu/send-direct", { main_key: user.key, subkeys: [], token: ticket })
            assert.strictEqual(sent.status, 200, sent.text)
            assert.deepStrictEqual(dataOf(sent), { message: "Cashu direct sent" })
            yield* awaitBalance(user.ecash, "ticket", 2)

            const streamId = yield* started("/cashu/request", {
              recipient_key: user.key,
              subkeys: [],
              mint_url: mint.url,
              unit: "ticket",
              amount: 2
            })
            const status = cashuStatus(yield* awaitEvents(streamId, settled))
            assert.strictEqual(status.status, "success")
            assert.strictEqual(yield* user.ecash.balance(mint.url, "ticket"), 0)

            const burned = yield* post("/cashu/burn", { mint_url: mint.url, unit: "ticket", token: status.token })
            assert.strictEqual(burned.status, 200, burned.text)
            assert.deepStrictEqual(dataOf(burned), { amount: 2 })

            const again = yield* post("/cashu/burn", { mint_url: mint.url, unit: "ticket", token: status.token })
            assert.strictEqual(again.status, 400, again.text)
            assert.match(errorOf(again), /already spent/)
            assert.notInclude(again.text, status.token!)

            // the user has nothing left: insufficient_funds, without being asked
            const empty = yield* started("/cashu/request", {
              recipient_key: user.key,
              subkeys: [],
              mint_url: mint.url,
              unit: "ticket",
              amount: 1
            })
            assert.deepStrictEqual(cashuStatus(yield* awaitEvents(empty, settled)), { status: "insufficient_funds" })

            // with a ticket again, the user declines
            const another = dataOf<{ token: string }>(
              yield* post("/cashu/mint", {
                mint_url: mint.url,
                unit: "ticket",
                amount: 1,
                static_auth_token: staticAuth
              })
            ).token
            yield* post("/cashu/send-direct", { main_key: user.key, subkeys: [], token: another })
            yield* awaitBalance(user.ecash, "ticket", 1)
            decline = true
            const declined = yield* started("/cashu/request", {
              recipient_key: user.key,
              subkeys: [],
              mint_url: mint.url,
              unit: "ticket",
              amount: 1
            })
            assert.deepStrictEqual(cashuStatus(yield* awaitEvents(declined, settled)), {
              status: "rejected",
              reason: "User denied request"
            })
            assert.strictEqual(yield* user.ecash.balance(mint.url, "ticket"), 1)
          })
        )
      })
    )

    it.scoped("the ticket flow through the typed client (the README's TypeScript example)", () =>
      Effect.gen(function* () {
        const { relay, daemon } = yield* startShop()
        const mintServer = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make(staticAuth) })
        const user = yield* startEcashUser(relay, Ecash.approveAll)
        yield* daemon.http(
          Effect.gen(function* () {
            const portal = yield* HttpApiClient.make(PortalApi, {
              transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
            })
            const mint = { mint_url: mintServer.url, unit: "ticket" }
            const { data: minted } = yield* portal.cashu.mint({
              payload: {
                ...mint,
                amount: Amount.make(1),
                static_auth_token: Option.some(staticAuth),
                description: Option.some("Concert")
              }
            })
            yield* portal.cashu.sendDirect({ payload: { main_key: user.key, subkeys: [], token: minted.token } })
            yield* awaitBalance(user.ecash, "ticket", 1)
            const { data: started } = yield* portal.cashu.request({
              payload: { ...mint, recipient_key: user.key, subkeys: [], amount: Amount.make(1) }
            })
            const answer = cashuStatus(yield* awaitEvents(started.stream_id, settled))
            const { data: burned } = yield* portal.cashu.burn({
              payload: { ...mint, token: answer.token!, static_auth_token: Option.none() }
            })
            assert.strictEqual(burned.amount, 1)
          })
        )
      })
    )

    it.scoped("paid minting: the daemon's wallet pays the mint's bolt11 quote", () =>
      Effect.gen(function* () {
        const { network, daemon } = yield* startShop({ balances: { daemon: 50_000, mint: 0 } })
        const mint = yield* CashuMint.make({ lightning: { network, walletName: "mint" } })
        yield* daemon.http(
          Effect.gen(function* () {
            const minted = yield* post("/cashu/mint", { mint_url: mint.url, unit: "sat", amount: 21 })
            assert.strictEqual(minted.status, 200, minted.text)
            const token = dataOf<{ token: string }>(minted).token
            assert.strictEqual((yield* Token.decode(token)).amount, 21)
            assert.strictEqual(yield* network.balanceOf("mint"), 21_000)
            assert.strictEqual(yield* network.balanceOf("daemon"), 29_000)

            const tooMuch = yield* post("/cashu/mint", { mint_url: mint.url, unit: "sat", amount: 1_000 })
            assert.strictEqual(tooMuch.status, 502, tooMuch.text)
            assert.match(errorOf(tooMuch), /^Failed to mint cashu: .*quote not paid/)

            const burned = yield* post("/cashu/burn", {
              mint_url: mint.url,
              unit: "sat",
              token,
              static_auth_token: null
            })
            assert.deepStrictEqual(dataOf(burned), { amount: 21 })
          })
        )
      })
    )

    it.scoped("malformed token, unknown unit, unreachable mint: clear 4xx/5xx JSON, nothing lost", () =>
      Effect.gen(function* () {
        const { daemon } = yield* startShop()
        const mint = yield* CashuMint.make({ units: ["ticket"], staticAuthToken: Redacted.make(staticAuth) })
        yield* daemon.http(
          Effect.gen(function* () {
            const ticket = dataOf<{ token: string }>(
              yield* post("/cashu/mint", {
                mint_url: mint.url,
                unit: "ticket",
                amount: 1,
                static_auth_token: staticAuth
              })
            ).token

            const malformed = yield* post("/cashu/burn", { mint_url: mint.url, unit: "ticket", token: "cashuBgarbage" })
            assert.strictEqual(malformed.status, 400, malformed.text)
            assert.match(errorOf(malformed), /^token: /)
            assert.strictEqual((malformed.json as { success: boolean }).success, false)
            const notSent = yield* post("/cashu/send-direct", {
              main_key: (yield* Keys.generate).publicKey,
              subkeys: [],
              token: "hello"
            })
            assert.strictEqual(notSent.status, 400, notSent.text)
            assert.match(errorOf(notSent), /^token: /)

            const unknownUnit = yield* post("/cashu/mint", {
              mint_url: mint.url,
              unit: "eur",
              amount: 1,
              static_auth_token: staticAuth
            })
            assert.strictEqual(unknownUnit.status, 400, unknownUnit.text)
            assert.match(errorOf(unknownUnit), /^unit: .*no keyset for unit "eur"/)
            const badUnit = yield* post("/cashu/request", {
              recipient_key: (yield* Keys.generate).publicKey,
              subkeys: [],
              mint_url: mint.url,
              unit: "Tickets!",
              amount: 1
            })
            assert.strictEqual(badUnit.status, 400, badUnit.text)
            assert.match(errorOf(badUnit), /^unit: /)
            const badUrl = yield* post("/cashu/mint", { mint_url: "not a url", unit: "ticket", amount: 1 })
            assert.strictEqual(badUrl.status, 400, badUrl.text)
            assert.match(errorOf(badUrl), /^mint_url: /)
            const wrongSecret = yield* post("/cashu/mint", {
              mint_url: mint.url,
              unit: "ticket",
              amount: 1,
              static_auth_token: "guess"
            })
            assert.strictEqual(wrongSecret.status, 400, wrongSecret.text)
            assert.match(errorOf(wrongSecret), /^static_auth_token: /)
            assert.notInclude(wrongSecret.text, "guess")

            const unreachable = yield* post("/cashu/burn", {
              mint_url: "http://127.0.0.1:1",
              unit: "ticket",
              token: ticket
            })
            assert.strictEqual(unreachable.status, 400, "a token of another mint is refused before any call")
            const down = yield* post("/cashu/mint", {
              mint_url: "http://127.0.0.1:1",
              unit: "ticket",
              amount: 1,
              static_auth_token: staticAuth
            })
            assert.strictEqual(down.status, 502, down.text)
            assert.match(errorOf(down), /^Failed to mint cashu: mint http:\/\/127\.0\.0\.1:1 unreachable/)
            assert.notInclude(down.text, staticAuth)

            // nothing was lost: the ticket still burns for its amount
            const burned = yield* post("/cashu/burn", { mint_url: mint.url, unit: "ticket", token: ticket })
            assert.deepStrictEqual(dataOf(burned), { amount: 1 })
          })
        )
      })
    )
  })
})
