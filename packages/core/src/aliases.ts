import { BAGGAGE_HEADER } from "./headers.js";
import type { OverrideSet } from "./override-set.js";

/**
 * A foreign override carrier read for migration (DESIGN.md §2 "Aliases"). Off unless configured.
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
