#!/usr/bin/env node
import { processIo } from "./cli-io.js";
import { runCli } from "./cli-program.js";

const code = await runCli(process.argv.slice(2), processIo());
// Long-running commands (demo) exit themselves; the rest end when their work is done.
process.exitCode = code;
