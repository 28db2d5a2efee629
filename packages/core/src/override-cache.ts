import { MAX_CACHED_VALUES, type OverrideLimits } from "./limits.js";
import type { OverrideSet } from "./override-set.js";

/** Which parser produced a set: the same raw text means different things in each. */
export const CacheKind = { Plain: 0, Encoded: 1 } as const;
export type CacheKind = (typeof CacheKind)[keyof typeof CacheKind];

const tables = new WeakMap<OverrideLimits, [Map<string, OverrideSet>, Map<string, OverrideSet>]>();

/**
 * Memo of carrier value → parsed set, for values that parsed without any problem (so a cached
 * answer is exactly what parsing again would give: OverrideSet is immutable). Keyed by the
 * resolved limits object, because a value valid under one limit may be over another.
 */
export function cachedOverrideSet(limits: OverrideLimits, kind: CacheKind, raw: string): OverrideSet | undefined {
  return tables.get(limits)?.[kind].get(raw);
}

export function cacheOverrideSet(limits: OverrideLimits, kind: CacheKind, raw: string, set: OverrideSet): void {
  let pair = tables.get(limits);
  if (pair === undefined) {
    pair = [new Map(), new Map()];
    tables.set(limits, pair);
  }
  const table = pair[kind];
  if (table.size >= MAX_CACHED_VALUES) table.clear();
  table.set(raw, set);
}

/**
 * A copy of `text` that does not share storage with a larger string. V8 represents a slice of 13
 * or more characters as a view that keeps its whole parent alive; a baggage member value sliced
 * from a 60 KiB header would otherwise pin that header in the cache. Concatenating forces a new
 * flat string of `text`'s length when it is sliced back (cost: one copy, on cache misses only).
 */
export function detachedCopy(text: string): string {
  return (" " + text).slice(1);
}
