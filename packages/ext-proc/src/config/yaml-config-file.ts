import { readFileSync } from "node:fs";
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { DetourError } from "@detour/core";

/** Where in a file a document path points, 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

/** One schema problem, located: `file:line:col path: message — fix`. */
export interface ConfigIssue {
  readonly path: string;
  readonly position: SourcePosition | undefined;
  readonly message: string;
}

/** `services.pricing.versions["pr-7"]`: the path as a person would write it in the document. */
export function formatDocPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(key))) text += text ? `.${String(key)}` : String(key);
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text || "(top level)";
}

function positionOf(doc: Document, path: readonly PropertyKey[], lines: LineCounter, key?: string): SourcePosition | undefined {
  // Walk as deep as the document goes; a missing key is reported at its parent.
  let node: unknown = doc.contents;
  let range: [number, number, number] | undefined = isNode(node) ? node.range ?? undefined : undefined;
  for (const segment of [...path, ...(key === undefined ? [] : [key])]) {
    if (!isNode(node) || !("items" in node)) break;
    const items = (node as { items: unknown[] }).items;
    let next: unknown;
    if (isMap(node)) {
      const pair = items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!isPair(pair)) break;
      // For an unknown key point at the key itself, otherwise at the value.
      next = segment === key ? pair.key : pair.value;
      if (isNode(pair.key) && pair.key.range) range = pair.key.range;
    } else if (typeof segment === "number") {
      next = items[segment];
    }
    if (!isNode(next)) break;
    node = next;
    if (next.range) range = next.range;
  }
  if (!range) return undefined;
  const { line, col } = lines.linePos(range[0]);
  return { line, col };
}

function isMissing(issue: z.core.$ZodIssue): boolean {
  return issue.code === "invalid_type" && issue.message.endsWith("received undefined");
}

/** The schema's message, plus the fix for the zod issue codes whose message does not say one. */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `${issue.message}: remove it or check its spelling against the schema (detour schema prints it)`;
  }
  // A bad record key nests the key's own issue; its message says what a key must look like.
  if (issue.code === "invalid_key" && issue.issues[0] !== undefined) return `invalid name: ${issue.issues[0].message}`;
  if (isMissing(issue)) return `missing (${issue.message}): add it`;
  return issue.message;
}

/** DetourError codes of a config file that cannot be used: unreadable, or not valid YAML for its schema. */
export const CONFIG_ERROR_CODES: readonly string[] = Object.freeze(["config-unreadable", "invalid-config"]);

/** True for the errors of a config file that cannot be used (both binaries exit 2 on them). */
export function isConfigError(error: unknown): error is DetourError {
  return error instanceof DetourError && CONFIG_ERROR_CODES.includes(error.code);
}

/**
 * Reads a YAML config file and validates it with a zod schema. Every error names the file, the
 * line and column, the path in the document and, where it can, the fix:
 * `detour.yaml:7:16 services.pricing.baseline: ...`. Throws DetourError "config-unreadable" or
 * "invalid-config". `shown` names the file in messages (default: the path as given).
 */
export function readYamlConfig<S extends z.ZodType>(file: string, schema: S, shown = file): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DetourError("config-unreadable", `${shown}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? String(error)})`}`, { cause: error });
  }
  return parseYamlConfig(text, shown, schema);
}

/** Same as readYamlConfig, for text already in memory; `shown` names it in errors. */
export function parseYamlConfig<S extends z.ZodType>(text: string, shown: string, schema: S): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const messages = doc.errors.map((error) => {
      const { line, col } = lines.linePos(error.pos[0]);
      return `${shown}:${line}:${col} ${error.message.split("\n")[0]}: fix the YAML syntax there`;
    });
    throw new DetourError("invalid-config", messages.join("\n"), { cause: doc.errors });
  }
  return validated(doc.toJS(), shown, schema, doc, lines);
}

/**
 * Validates a document already parsed (YAML or JSON value); `source` names it in errors. With
 * the YAML document and its line counter, problems carry their line and column.
 */
export function validated<S extends z.ZodType>(document: unknown, source: string, schema: S, doc?: Document, lines?: LineCounter): z.output<S> {
  const result = schema.safeParse(document ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue): ConfigIssue => {
    const key = issue.code === "unrecognized_keys" ? issue.keys[0] : undefined;
    const path = key === undefined ? issue.path : [...issue.path, key];
    const position = doc !== undefined && lines !== undefined ? positionOf(doc, issue.path, lines, key) : undefined;
    return { path: formatDocPath(path), position, message: describe(issue) };
  });
  throw new DetourError("invalid-config", issues.map((issue) => formatIssue(source, issue)).join("\n"), { cause: result.error });
}

function formatIssue(shown: string, issue: ConfigIssue): string {
  const where = issue.position ? `${shown}:${issue.position.line}:${issue.position.col}` : shown;
  return `${where} ${issue.path}: ${issue.message}`;
}
