import { defineConfig } from "tsup"

/**
 * Bundles the CLI into one ESM file with its dependencies inlined, so `portal` starts in a fraction of a second.
 * Left external: the native SQLite binding and the relay engine that `@portal/testing` loads with `require`; they are
 * direct dependencies of this package so the bundle resolves them. `require` is provided for inlined CommonJS.
 */
export default defineConfig({
  entry: ["src/bin.ts"],
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  noExternal: [/^(?!better-sqlite3$|@nostr-relay\/)/],
  external: ["better-sqlite3", /^@nostr-relay\//],
  banner: {
    js: "import { createRequire as __portalCreateRequire } from 'node:module'; const require = __portalCreateRequire(import.meta.url);"
  }
})
