#!/usr/bin/env node
// The `detour` command. This file is plain JavaScript and committed, unlike dist/, so that
// npm links the command when it installs the workspace (npm ci), before the first build.
import { existsSync } from "node:fs";

const entry = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("detour: the CLI is not built (dist/bin.js is missing): run npm run build in the repository\n");
  process.exit(1);
}
await import(entry.href);
