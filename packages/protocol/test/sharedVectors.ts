/**
 * Reads the shared conformance vectors (../shared/vectors, next to the repository) at test time.
 */
import * as fs from "node:fs"

const vectorsDir = new URL("../../../../shared/vectors/", import.meta.url)

/** The `vectors` array of one shared vector file, untyped: each test decodes what it needs. */
export const load = (file: string): ReadonlyArray<Record<string, any>> =>
  JSON.parse(fs.readFileSync(new URL(file, vectorsDir), "utf8")).vectors
