import * as fs from "node:fs"

/** Reads a conformance vector file from /work/shared/vectors (never copied into the project). */
export const readVectors = (name: string): unknown =>
  JSON.parse(fs.readFileSync(new URL(`../../../../shared/vectors/${name}`, import.meta.url), "utf8"))

export const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
