import { resolve } from "node:path";
import { detourConfigSchema, type DetourConfig } from "@detour/ext-proc";
import { readYamlConfig } from "./yaml-config-file.js";

/** The file every command reads unless --topology says otherwise. */
export const DEFAULT_TOPOLOGY = "detour.yaml";

/**
 * Reads and validates a detour.yaml with the server's own schema (so the CLI and the ext_proc
 * server can never disagree on what is valid), reporting `file:line:col path: problem` for
 * each problem.
 */
export function loadTopology(file: string, cwd: string): DetourConfig {
  return readYamlConfig(resolve(cwd, file), detourConfigSchema, { what: "topology (detour.yaml)", cwd });
}
