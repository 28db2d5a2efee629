/**
 * The V8 heap limits the ext_proc server is meant to run with (docs/operations.md, "Memory").
 * V8 sizes its heap when the process starts, so a running server cannot apply them to itself
 * (`v8.setFlagsFromString` is too late): every launcher puts them before the script,
 * `node ${EXT_PROC_NODE_FLAGS.join(" ")} dist/bin.js --config detour.yaml`, or in NODE_OPTIONS
 * (Node allows both there).
 *
 * Measured behind Envoy at ~2k overridden requests/s, without them RSS peaks at 150-160 MiB:
 * - the young generation grows to V8's default maximum (two 16 MiB semi-spaces) under the
 *   per-request allocation and its pages stay resident; `--max-semi-space-size=4` caps it at 8 MiB;
 * - with the default heap limit (a quarter of the machine's memory) V8 lets the old generation
 *   reach several times its ~25 MiB of live objects before a full collection (60-75 MiB seen).
 *   A limit of 256 MiB makes V8 collect at about 1.3 times the live size (28-30 MiB seen).
 * With both, the peak is ~88 MiB; the price is ~20 ms more GC per 1000 requests (about 10 % of the
 * server's CPU per request): more, shorter collections. `--max-semi-space-size=8` costs half
 * of that but peaks at ~95 MiB, too close to the 100 MiB budget. The live heap is ~25 MiB,
 * far below the 256 MiB limit.
 */
export const EXT_PROC_NODE_FLAGS: readonly string[] = Object.freeze(["--max-semi-space-size=4", "--max-old-space-size=256"]);

/** The flag name of `--name=value` (or `--name value`). */
function flagName(flag: string): string {
  return flag.split("=", 1)[0]!.replaceAll("_", "-");
}

/**
 * Which of EXT_PROC_NODE_FLAGS this process was started without, looking at its own command
 * line and NODE_OPTIONS. A flag given with another value counts as set: that is the operator's
 * choice.
 */
export function missingNodeHeapFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ""): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((arg) => arg.startsWith("--")).map(flagName));
  return EXT_PROC_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}
