import { detourConfigSchema, type DetourConfig } from "./detour-config-schema.js";
import { parseYamlConfig, readYamlConfig, validated } from "./yaml-config-file.js";

/*
 * Loading `detour.yaml`. The server (detour-ext-proc) and the CLI (detour) both load it here, so
 * the same file gets the same verdict, message, DetourError code and exit status from both.
 */

/**
 * Validates a parsed document (YAML or JSON value) against the schema and fills in defaults.
 * Throws DetourError "invalid-config" whose message names every bad field by its path:
 * `detour.yaml services.pricing.baseline: ...`.
 */
export function parseConfig(document: unknown, source = "config"): DetourConfig {
  return validated(document, source, detourConfigSchema);
}

/** Parses YAML text and validates it; problems name their line and column (see parseConfig). */
export function parseConfigText(text: string, source = "config"): DetourConfig {
  return parseYamlConfig(text, source, detourConfigSchema);
}

/**
 * Reads and validates a `detour.yaml` file. Throws DetourError "config-unreadable" or
 * "invalid-config" (isConfigError); `shown` names the file in messages (default: `path`).
 */
export function loadConfigFile(path: string, shown = path): DetourConfig {
  return readYamlConfig(path, detourConfigSchema, shown);
}
