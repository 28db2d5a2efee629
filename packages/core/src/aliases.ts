import type { ConfigProblem } from "./config-problem.js";
import { BAGGAGE_HEADER, BAGGAGE_MEMBER, isHeaderName, isReservedHeader } from "./headers.js";
import type { OverrideSet } from "./override-set.js";

/**
 * A foreign override carrier read for migration (docs/spec.md §6). Off unless configured.
 * - `{ header, format: "pairs" }`: `svc:ver,svc:ver` (Istio override operator's `x-override`).
 * - `{ header, format: "wildcard" }`: the value is one key meaning `*=key` (`virtual-cluster-name`).
 * - `{ baggage }`: a baggage list-member whose value is a key meaning `*=key`
 *   (`okteto-divert`, `sd-routing-key`, `mirrord-session`).
 */
export type AliasSpec =
  | { readonly header: string; readonly format: "pairs" }
  | { readonly header: string; readonly format: "wildcard" }
  | { readonly baggage: string };

/**
 * The carrier name an alias reports under (CarrierReadResult.source, Problem.carrier): the
 * lower-cased header name, or `baggage:<member>` for a baggage member.
 */
export function aliasName(spec: AliasSpec): string {
  return "baggage" in spec ? `${BAGGAGE_HEADER}:${spec.baggage}` : spec.header.toLowerCase();
}

/**
 * The value an alias carrier should hold for `set`, or undefined when the alias cannot express it
 * (remove or leave that carrier). `pairs` writes every entry as `svc:ver` (`*:key` for the
 * wildcard); `wildcard` and baggage aliases can only express a set that is exactly `*=key`, and
 * return the bare key (for a baggage alias: the member value; keys need no percent-encoding).
 */
export function formatAlias(spec: AliasSpec, set: OverrideSet): string | undefined {
  if (set.isEmpty) return undefined;
  if (!("baggage" in spec) && spec.format === "pairs") {
    let text = "";
    for (const { service, version } of set.entries()) {
      text += text.length === 0 ? `${service}:${version}` : `,${service}:${version}`;
    }
    return text;
  }
  return set.size === 1 ? set.wildcard : undefined;
}

const KEYS = new Set(["header", "format", "baggage"]);

/**
 * What is wrong with the alias at `aliases[index]` (configuration time), paths from the options'
 * root. Header names and baggage keys must be tokens, and an alias may not name detour's own
 * headers (isReservedHeader) or baggage member.
 */
export function aliasProblems(spec: unknown, index: number): ConfigProblem[] {
  const at = (...rest: string[]) => ["aliases", index, ...rest];
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return [{ path: at(), message: `must be { header, format } or { baggage }, got ${describe(spec)}` }];
  }
  const problems: ConfigProblem[] = [];
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) problems.push({ path: at(key), message: "is not an alias field: write { header, format } or { baggage }" });
  }
  const { header, format, baggage } = spec as { header?: unknown; format?: unknown; baggage?: unknown };
  if (baggage !== undefined) {
    if (header !== undefined || format !== undefined) {
      problems.push({ path: at(), message: "has both baggage and header/format: one alias reads one carrier, write two aliases" });
    } else if (typeof baggage !== "string" || !isHeaderName(baggage)) {
      problems.push({ path: at("baggage"), message: `must be a baggage key (an RFC 9110 token), got ${describe(baggage)}` });
    } else if (baggage === BAGGAGE_MEMBER) {
      problems.push({ path: at("baggage"), message: `'${BAGGAGE_MEMBER}' is detour's own baggage member: remove this alias` });
    }
    return problems;
  }
  if (typeof header !== "string" || !isHeaderName(header)) {
    problems.push({ path: at("header"), message: `must be a header name (an RFC 9110 token), got ${describe(header)}` });
  } else if (isReservedHeader(header)) {
    problems.push({ path: at("header"), message: `'${header}' is one of detour's own headers: remove this alias` });
  }
  if (format !== "pairs" && format !== "wildcard") {
    problems.push({ path: at("format"), message: `must be "pairs" (svc:ver,...) or "wildcard" (one key meaning *=key), got ${describe(format)}` });
  }
  return problems;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? (value === null ? "null" : Array.isArray(value) ? "a list" : "an object") : String(value);
}

/** A checked alias in the form readers use: header names lower-cased, frozen. */
export function normalizedAlias(spec: AliasSpec): AliasSpec {
  if ("baggage" in spec) return Object.freeze({ baggage: spec.baggage });
  return Object.freeze({ header: spec.header.toLowerCase(), format: spec.format });
}
