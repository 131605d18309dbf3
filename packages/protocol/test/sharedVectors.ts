/**
 * Reads the shared conformance vectors (../shared/vectors, next to the repository) at test time.
 */
import * as Subkey from "@portal/protocol/Subkey"
import * as fs from "node:fs"

const vectorsDir = new URL("../../../../shared/vectors/", import.meta.url)

/** The `vectors` array of one shared vector file, untyped: each test decodes what it needs. */
export const load = (file: string): ReadonlyArray<Record<string, any>> =>
  JSON.parse(fs.readFileSync(new URL(file, vectorsDir), "utf8")).vectors

/** The vectors' decoded subkey metadata (timestamps as numbers, or strings above 2^53) as our domain value. */
export const metadataFromVector = (m: Record<string, any>): Subkey.SubkeyMetadata => ({
  name: m.name,
  nonce: Subkey.NonceHex.make(m.nonce),
  validFrom: BigInt(m.valid_from),
  expiresAt: BigInt(m.expires_at),
  permissions: m.permissions,
  version: m.version
})
