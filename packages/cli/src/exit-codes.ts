import { DetourError } from "@detour/core";

/** Exit codes of every `detour` command (documented in packages/cli/README.md). */
export const EXIT_OK = 0;
/** The command ran and the answer is "no": a demo expectation not met, a child crashed, Envoy rejected a config. */
export const EXIT_FAILURE = 1;
/** The command could not run as asked: unknown flag, missing argument, an invalid detour.yaml. */
export const EXIT_USAGE = 2;

/** DetourError codes that mean "fix how you called me or your topology", not "it failed". */
const USAGE_CODES = new Set(["usage", "topology-not-found", "topology-invalid", "topology-yaml", "headers-invalid"]);

export function exitCodeFor(error: unknown): number {
  return error instanceof DetourError && (USAGE_CODES.has(error.code) || error.code.startsWith("usage-")) ? EXIT_USAGE : EXIT_FAILURE;
}
