import { defineConfig } from "vitest/config"

/** One root command runs every package's tests: each package is a vitest project. */
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"]
  }
})
