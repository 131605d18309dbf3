/** The checksum the durability test's appender puts in each event, so a torn write would show. */
import { createHash } from "node:crypto"

export const checksum = (n: number, padding: string): string =>
  createHash("sha256").update(`${n}:${padding}`).digest("hex")
