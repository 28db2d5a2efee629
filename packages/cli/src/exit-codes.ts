import { DetourError } from "@detour/core";
import { isConfigError } from "@detour/ext-proc";

/** Exit codes of every `detour` command (documented in packages/cli/README.md). */
export const EXIT_OK = 0;
/** The command ran and the answer is "no": a demo expectation not met, a child crashed, Envoy rejected a config. */
export const EXIT_FAILURE = 1;
/** The command could not run as asked: unknown flag, missing argument, an invalid detour.yaml. */
export const EXIT_USAGE = 2;

/** DetourError codes that mean "fix how you called me", not "it failed". */
const USAGE_CODES = new Set(["usage", "headers-invalid"]);

/** EXIT_USAGE for usage errors and a config file that cannot be used (as detour-ext-proc exits), else EXIT_FAILURE. */
export function exitCodeFor(error: unknown): number {
  if (isConfigError(error)) return EXIT_USAGE;
  return error instanceof DetourError && (USAGE_CODES.has(error.code) || error.code.startsWith("usage-")) ? EXIT_USAGE : EXIT_FAILURE;
}
