import { baggageWithOverride } from "./baggage.js";
import { BAGGAGE_HEADER, DETOUR_HEADER } from "./headers.js";
import { isHeadersLike, nameEquals, type HeadersLike } from "./header-input.js";
import type { OverrideSet } from "./override-set.js";

/** Mutable headers writeCarriers can update: WHATWG `Headers`, or a plain / Node outgoing headers object. */
export type WritableHeaders = HeadersLike | Record<string, string | number | readonly string[] | undefined>;

/**
 * Writes `set` into both canonical carriers: `x-detour: <canonical>` and the baggage member
 * `detour=<percent-encoded canonical>`, keeping every other baggage member and property
 * byte-for-byte. An empty set removes x-detour and our baggage member (and the baggage header if
 * nothing else is left). Keys of a plain object are matched case-insensitively and rewritten in
 * lower case; alias carriers are left alone (use formatAlias to rewrite them).
 */
export function writeCarriers(headers: WritableHeaders, set: OverrideSet): void {
  if (isHeadersLike(headers)) {
    const baggage = baggageWithOverride(headers.get(BAGGAGE_HEADER) ?? undefined, set);
    if (set.isEmpty) headers.delete(DETOUR_HEADER);
    else headers.set(DETOUR_HEADER, set.toString());
    if (baggage === undefined) headers.delete(BAGGAGE_HEADER);
    else headers.set(BAGGAGE_HEADER, baggage);
    return;
  }
  const record = headers as Record<string, unknown>;
  let baggage: string | undefined;
  let hasDetour = false;
  let foreignKeys: string[] | undefined;
  for (const name in record) {
    if (nameEquals(name, BAGGAGE_HEADER)) {
      const value = record[name];
      const lines = Array.isArray(value) ? (value as readonly unknown[]) : [value];
      for (const line of lines) {
        if (typeof line === "string") baggage = baggage === undefined ? line : `${baggage},${line}`;
      }
      if (name !== BAGGAGE_HEADER) (foreignKeys ??= []).push(name);
    } else if (nameEquals(name, DETOUR_HEADER)) {
      hasDetour = true;
      if (name !== DETOUR_HEADER) (foreignKeys ??= []).push(name);
    }
  }
  if (foreignKeys !== undefined) for (const name of foreignKeys) delete record[name];
  if (set.isEmpty) {
    if (hasDetour) delete record[DETOUR_HEADER];
  } else {
    record[DETOUR_HEADER] = set.toString();
  }
  const next = baggageWithOverride(baggage, set);
  if (next === undefined) delete record[BAGGAGE_HEADER];
  else record[BAGGAGE_HEADER] = next;
}
