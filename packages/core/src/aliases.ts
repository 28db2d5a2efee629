import { DetourError } from "./detour-error.js";
import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER, ROUTE_HEADER, TOKEN_HEADER } from "./headers.js";
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

/** RFC 9110 §5.6.2 token characters: header names and W3C baggage keys are tokens. */
function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) === -1) return false;
  }
  return true;
}

const RESERVED_HEADERS: readonly string[] = [DETOUR_HEADER, BAGGAGE_HEADER, ROUTE_HEADER, TOKEN_HEADER];

/**
 * Checks an alias table (configuration time): header names and baggage keys must be tokens, and
 * an alias may not name detour's own carriers. Throws DetourError "invalid-alias".
 */
export function validateAliases(aliases: readonly AliasSpec[]): void {
  aliases.forEach((spec: AliasSpec, index) => {
    const where = `aliases[${index}]`;
    if (typeof spec !== "object" || spec === null) {
      throw new DetourError("invalid-alias", `${where} must be { header, format } or { baggage }`);
    }
    if ("baggage" in spec) {
      if (typeof spec.baggage !== "string" || !isToken(spec.baggage)) {
        throw new DetourError("invalid-alias", `${where}.baggage must be a baggage key (an RFC 9110 token), got ${JSON.stringify(spec.baggage)}`);
      }
      if (spec.baggage === BAGGAGE_MEMBER) {
        throw new DetourError("invalid-alias", `${where}.baggage '${BAGGAGE_MEMBER}' is detour's own member: remove this alias`);
      }
      return;
    }
    const { header, format } = spec as { header: unknown; format: unknown };
    if (typeof header !== "string" || !isToken(header)) {
      throw new DetourError("invalid-alias", `${where}.header must be a header name (an RFC 9110 token), got ${JSON.stringify(header)}`);
    }
    if (RESERVED_HEADERS.includes(header.toLowerCase())) {
      throw new DetourError("invalid-alias", `${where}.header '${header}' is one of detour's own headers: remove this alias`);
    }
    if (format !== "pairs" && format !== "wildcard") {
      throw new DetourError("invalid-alias", `${where}.format must be "pairs" (svc:ver,...) or "wildcard" (one key meaning *=key), got ${JSON.stringify(format)}`);
    }
  });
}
