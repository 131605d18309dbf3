/**
 * The only file importing `@getalby/sdk` (ecosystem.md §8): an `NWCClient` per connection, every call wrapped in
 * `Effect.tryPromise`, its errors mapped by `instanceof` to `WalletError`s, its replies decoded with schemas.
 *
 * The sdk picks NIP-44 (`nip44_v2`) when the wallet's 13194 info event lists it and falls back to NIP-04.
 *
 * Node 20 has no global `WebSocket`; the sdk looks it up when it opens a relay connection. This is the one
 * sanctioned global of the repository (STYLE.md §9).
 *
 * @internal
 */
import {
  NWCClient,
  Nip47NetworkError,
  Nip47PublishError,
  Nip47ResponseDecodingError,
  Nip47ResponseValidationError,
  Nip47TimeoutError,
  Nip47UnexpectedResponseError,
  Nip47UnsupportedEncryptionError,
  Nip47WalletError
} from "@getalby/sdk/nwc"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { WebSocket } from "ws"
import {
  type WalletError,
  WalletNotSupported,
  WalletTimeout,
  WalletUnreachable,
  fromNip47Code
} from "../WalletError.js"

globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket

/** An open NWC connection; opaque outside this file. */
export interface Client {
  readonly _nwc: NWCClient
}

/** Parses the connection URL (never echoed: it holds the client secret) and creates the client. */
export const connect = (url: Redacted.Redacted<string>): Effect.Effect<Client, WalletUnreachable> =>
  Effect.try({
    try: () => ({ _nwc: new NWCClient({ nostrWalletConnectUrl: Redacted.value(url) }) }),
    catch: () =>
      new WalletUnreachable({
        op: "connect",
        reason: "Connect",
        detail: "wallet.nwc.url is not a valid nostr+walletconnect:// URL (value withheld)"
      })
  })

/** Closes the relay connections. */
export const close = (client: Client): Effect.Effect<void> => Effect.sync(() => client._nwc.close())

/** The wallet service's public key (from the URL). */
export const walletPubkey = (client: Client): string => client._nwc.walletPubkey

const fromSdk =
  (op: string, paymentHash?: string) =>
  (cause: unknown): WalletError => {
    if (cause instanceof Nip47WalletError) return fromNip47Code(op, cause.code, cause.message, paymentHash)
    if (cause instanceof Nip47TimeoutError) return new WalletTimeout({ op, detail: cause.message })
    if (cause instanceof Nip47UnsupportedEncryptionError)
      return new WalletNotSupported({ op, reason: "Encryption", detail: cause.message })
    if (cause instanceof Nip47NetworkError)
      return new WalletUnreachable({ op, reason: "Connect", detail: cause.message, cause })
    if (cause instanceof Nip47PublishError)
      return new WalletUnreachable({ op, reason: "Publish", detail: cause.message, cause })
    if (
      cause instanceof Nip47ResponseDecodingError ||
      cause instanceof Nip47ResponseValidationError ||
      cause instanceof Nip47UnexpectedResponseError
    )
      return new WalletUnreachable({ op, reason: "BadReply", detail: cause.message, cause })
    // A plain Error comes from the 13194 info lookup ("no info event … returned from relay") or the pool.
    const detail = cause instanceof Error ? cause.message : String(cause)
    return new WalletUnreachable({ op, reason: "Connect", detail, cause })
  }

const call =
  <A, I>(op: string, schema: Schema.Schema<A, I>, run: (nwc: NWCClient) => Promise<unknown>, paymentHash?: string) =>
  (client: Client): Effect.Effect<A, WalletError> =>
    Effect.tryPromise({ try: () => run(client._nwc), catch: fromSdk(op, paymentHash) }).pipe(
      Effect.flatMap(Schema.decodeUnknown(schema)),
      Effect.catchTag("ParseError", (e) =>
        Effect.fail(new WalletUnreachable({ op, reason: "BadReply", detail: e.message }))
      )
    )

const OptionalNumber = Schema.optional(Schema.NullOr(Schema.Number))
const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/** A NIP-47 transaction (`make_invoice`, `lookup_invoice`), wire shape. */
export const Transaction = Schema.Struct({
  type: OptionalString,
  state: OptionalString,
  invoice: OptionalString,
  description: OptionalString,
  preimage: OptionalString,
  payment_hash: Schema.String,
  amount: Schema.Number,
  fees_paid: OptionalNumber,
  created_at: OptionalNumber,
  expires_at: OptionalNumber,
  settled_at: OptionalNumber
})
export type Transaction = typeof Transaction.Type

const PayResult = Schema.Struct({ preimage: Schema.String, fees_paid: OptionalNumber })
const BalanceResult = Schema.Struct({ balance: Schema.Number })
const InfoResult = Schema.Struct({
  alias: OptionalString,
  network: OptionalString,
  pubkey: OptionalString,
  methods: Schema.optional(Schema.Array(Schema.String))
})

export const makeInvoice = (params: { amount: number; description: string; expiry?: number }) =>
  call("make_invoice", Transaction, (nwc) => nwc.makeInvoice(params))

export const lookupInvoice = (paymentHash: string) =>
  call("lookup_invoice", Transaction, (nwc) => nwc.lookupInvoice({ payment_hash: paymentHash }), paymentHash)

export const payInvoice = (invoice: string) => call("pay_invoice", PayResult, (nwc) => nwc.payInvoice({ invoice }))

export const getBalance = call("get_balance", BalanceResult, (nwc) => nwc.getBalance())

export const getInfo = call("get_info", InfoResult, (nwc) => nwc.getInfo())

/** The encryption the client settled on (`nip44_v2` or `nip04`); known after the first request. */
export const encryptionType = (client: Client): string => client._nwc.encryptionType
