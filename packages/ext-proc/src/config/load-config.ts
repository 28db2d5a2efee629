import { readFileSync } from "node:fs";
import { DetourError } from "@detour/core";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { detourConfigSchema, type DetourConfig } from "./detour-config-schema.js";

/** `services.pricing.hosts[0]`: the path of an issue in the document, as a person reads it. */
export function documentPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text.length === 0 ? String(part) : `.${String(part)}`;
  }
  return text.length === 0 ? "(top level)" : text;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  // A bad record key nests the key's own issue; its message says what a key must look like.
  if (issue.code === "invalid_key" && issue.issues[0] !== undefined) return `invalid name: ${issue.issues[0].message}`;
  return issue.message;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `  ${documentPath(issue.path)}: ${issueMessage(issue)}`).join("\n");
}

/**
 * Validates a parsed document (YAML or JSON value) against the schema and fills in defaults.
 * Throws DetourError "invalid-config" whose message names every bad field by its path.
 */
export function parseConfig(document: unknown, source = "config"): DetourConfig {
  const result = detourConfigSchema.safeParse(document ?? {});
  if (!result.success) {
    throw new DetourError("invalid-config", `${source} is invalid:\n${describeIssues(result.error.issues)}`, { cause: result.error });
  }
  return result.data;
}

/** Parses YAML text and validates it (see parseConfig). */
export function parseConfigText(text: string, source = "config"): DetourConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : "";
    throw new DetourError("invalid-config", `${source} is not valid YAML${where}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, { cause: error });
  }
  return parseConfig(document, source);
}

/** Reads and validates a `detour.yaml` file. Throws DetourError ("config-unreadable", "invalid-config"). */
export function loadConfigFile(path: string): DetourConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new DetourError("config-unreadable", `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
  return parseConfigText(text, path);
}
