import type { OverrideSet } from "@detour/core";
import type { AllowListConfig } from "../config/edge-config-schema.js";

/** Which override entries a token may carry (edge.tokens.allow, a key's allow, the token's svc claim). */
export interface AllowList {
  /** True when every entry of `set` is permitted. */
  permits(set: OverrideSet): boolean;
}

function patternMatches(pattern: string, version: string): boolean {
  if (pattern === "*") return true;
  return pattern.endsWith("*") ? version.startsWith(pattern.slice(0, -1)) : version === pattern;
}

/**
 * Compiles `{ pricing: [v2, "pr-*"], "*": ["pr-*"] }`. Key `*` governs wildcard entries
 * (`*=pr-7`) only; it does not extend to named services, so an allow-list that names
 * `pricing` alone can never be widened by a token.
 */
export function allowListFromConfig(config: AllowListConfig | undefined): AllowList | undefined {
  if (config === undefined) return undefined;
  const patterns = new Map<string, readonly string[]>(Object.entries(config));
  return {
    permits(set) {
      for (const entry of set.entries()) {
        const allowed = patterns.get(entry.service);
        if (allowed === undefined || !allowed.some((pattern) => patternMatches(pattern, entry.version))) return false;
      }
      return true;
    },
  };
}

/**
 * The token's own `svc` claim: the services (and `*` for wildcard entries) its override may
 * touch, whatever versions. Lets a signer bound a token further than the edge's allow-list.
 */
export function allowListFromServices(services: readonly string[]): AllowList {
  const names = new Set(services);
  return {
    permits(set) {
      for (const entry of set.entries()) if (!names.has(entry.service)) return false;
      return true;
    },
  };
}
