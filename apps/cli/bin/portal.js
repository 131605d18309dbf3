#!/usr/bin/env node
// The `portal` binary: runs the tsup bundle dist/bin.js (starts in a fraction of a second), rebuilding it first when
// it is missing or older than any source of the CLI or of the workspace packages it bundles.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..")
const bundle = join(appDir, "dist", "bin.js")

const newestSource = (dir) => {
  let newest = 0
  if (!existsSync(dir)) return newest
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

const workspace = join(appDir, "..", "..")
const sources = [
  join(appDir, "src"),
  join(workspace, "apps", "server", "src"),
  ...readdirSync(join(workspace, "packages")).map((name) => join(workspace, "packages", name, "src"))
]
const stale = !existsSync(bundle) || sources.some((dir) => newestSource(dir) > statSync(bundle).mtimeMs)
if (stale) {
  execFileSync(process.execPath, [join(appDir, "node_modules", "tsup", "dist", "cli-default.js"), "--silent"], {
    cwd: appDir,
    stdio: ["ignore", "ignore", "inherit"]
  })
}
await import(pathToFileURL(bundle).href)
