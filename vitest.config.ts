import { defineConfig } from "vitest/config"

/**
 * One root command runs every package's tests: each package is a vitest project.
 *
 * Three test files at a time: most files wait on loopback relays, subprocesses, databases and timers rather than
 * compute, so on the 2-core machines three workers roughly halve the suite's wall time (vitest's default for 2
 * cores is one worker). Every test waits for conditions, never for fixed times, so the extra load only slows them.
 */
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    maxWorkers: 3,
    minWorkers: 1
  }
})
