import type { OverrideSet } from "./override-set.js";

/** The version an override names for one service, and whether a named entry (not the wildcard) said so. */
export interface RequestedVersion {
  /** undefined when the set says nothing about the service (the baseline serves). */
  readonly version: string | undefined;
  /**
   * True for a named entry. The distinction matters for a version the topology lacks: a wildcard
   * is a sandbox key and quietly leaves services without that version on their baseline, while a
   * named entry for a missing version is a miss (fallback or reject by the service's policy).
   */
  readonly named: boolean;
}

const NOTHING: RequestedVersion = Object.freeze({ version: undefined, named: false });

/** What `set` asks of `service` (a lower-case topology service name). */
export function requestedVersion(set: OverrideSet, service: string): RequestedVersion {
  const version = set.versionFor(service);
  if (version === undefined) return NOTHING;
  const wildcard = set.wildcard;
  if (wildcard === undefined || version !== wildcard) return { version, named: true };
  // Same text as the wildcard: only the entry list tells a named entry apart.
  for (const entry of set.entries()) if (entry.service === service) return { version, named: true };
  return { version, named: false };
}
