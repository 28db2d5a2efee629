import { relative, resolve } from "node:path";
import { DetourError } from "@detour/core";
import { loadConfigFile, type DetourConfig } from "@detour/ext-proc";

/** The file every command reads unless --topology says otherwise. */
export const DEFAULT_TOPOLOGY = "detour.yaml";

/**
 * Reads and validates a detour.yaml with the server's own loader, so `detour` and
 * `detour-ext-proc` never disagree on what is valid, nor on the error code and message; each
 * problem reads `file:line:col path: problem`, the file relative to the working directory.
 */
export function loadTopology(file: string, cwd: string): DetourConfig {
  const path = resolve(cwd, file);
  try {
    return loadConfigFile(path, relative(cwd, path) || path);
  } catch (error) {
    // Commands read ./detour.yaml unless told otherwise: say how to tell them.
    if (error instanceof DetourError && error.code === "config-unreadable" && (error.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      throw new DetourError(error.code, `${error.message}: pass --topology with the path of your topology (detour.yaml)`, { cause: error.cause });
    }
    throw error;
  }
}
