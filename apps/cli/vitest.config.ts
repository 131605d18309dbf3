import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The tests run the CLI as users do: the tsup bundle under plain node, built once per run (test/globalSetup.ts).
export default mergeConfig(shared, defineProject({ test: { name: "cli", globalSetup: ["test/globalSetup.ts"] } }))
