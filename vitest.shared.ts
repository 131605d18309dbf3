import { defineProject } from "vitest/config"

/** Settings every package's vitest project shares. Real relays, databases and servers run on loopback. */
export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
