import { setFlagsFromString } from "node:v8";

/**
 * The ext_proc server runs without V8's mid-tier compiler, Maglev (docs/operations.md, "Memory"),
 * which Node turns on by default from Node 24 on (20 and 22 run without it). A long-running
 * server's hot code ends up in TurboFan either way; Maglev only shortens the way there, and under
 * load the code it compiles and the memory its compiler threads keep cost 5-12 MiB of resident
 * memory on Node 24 (`node bench/server-cpu.mjs`), for no measurable CPU per request.
 *
 * Node refuses V8 compiler flags in NODE_OPTIONS, so the server sets this one itself, before any of
 * its code has run long enough to be compiled. An operator who wants Maglev starts the server
 * with `node --maglev`, which this leaves alone.
 */
const EXT_PROC_TIERING_FLAG = "--no-maglev";

/** Whether the command line already decides about Maglev (`--maglev` or `--no-maglev`). */
export function commandLineSetsMaglev(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => /^--(no[-_])?maglev(=|$)/.test(arg));
}

/** Turns Maglev off unless the command line chose; returns whether it did. */
export function applyTieringFlag(execArgv: readonly string[] = process.execArgv): boolean {
  if (commandLineSetsMaglev(execArgv)) return false;
  setFlagsFromString(EXT_PROC_TIERING_FLAG);
  return true;
}
