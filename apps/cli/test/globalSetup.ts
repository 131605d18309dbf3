import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

/** Builds dist/bin.js (the bundled `portal`) once before the CLI's test files run. */
export default function setup() {
  execFileSync(process.execPath, ["node_modules/tsup/dist/cli-default.js", "--silent"], {
    cwd: fileURLToPath(new URL("..", import.meta.url))
  })
}
