#!/usr/bin/env node
import { processIo } from "./cli-io.js";
import { runCli } from "./cli-program.js";

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
// Normally nothing is left to run; should a stray keep-alive socket remain, do not hang on it.
setTimeout(() => process.exit(code), 2_000).unref();
