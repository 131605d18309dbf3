import { defineConfig } from "tsup"

/** Bundles the daemon into one ESM file; workspace packages are inlined, npm dependencies stay external. */
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  noExternal: [/^@portal\//]
})
