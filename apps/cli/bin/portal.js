#!/usr/bin/env node
// The `portal` binary: runs the TypeScript sources through tsx (the sandbox embeds workspace packages that are
// never bundled, so the sources are the program).
import { register } from "tsx/esm/api"

register()
await import("../src/bin.ts")
