import { AUTHORITY_HEADER } from "../constants.js";

/** The names a scan looks for (`wanted` plus :authority), indexed by length. */
export type NamesByLength = readonly (readonly string[] | undefined)[];

const namesCache = new WeakMap<ReadonlySet<string>, NamesByLength>();

/** `wanted` plus :authority by length, built once per set (the routing table's sets live as long as the config). */
export function namesByLength(wanted: ReadonlySet<string>): NamesByLength {
  let found = namesCache.get(wanted);
  if (found === undefined) {
    const byLength: string[][] = [];
    for (const name of [AUTHORITY_HEADER, ...wanted]) (byLength[name.length] ??= []).push(name);
    found = byLength;
    namesCache.set(wanted, found);
  }
  return found;
}

/**
 * The wanted name the key bytes spell, compared in place: decoding every key of every request
 * into a string only to drop most of them was the scan's largest cost. Names are lower-case
 * ASCII, so equal bytes are exactly what equal UTF-8-decoded keys would be.
 */
export function matchKey(bytes: Buffer, start: number, end: number, names: NamesByLength): string | undefined {
  const length = end - start;
  const candidates = length < names.length ? names[length] : undefined;
  if (candidates === undefined) return undefined;
  outer: for (const name of candidates) {
    for (let i = 0; i < length; i++) if (bytes[start + i] !== name.charCodeAt(i)) continue outer;
    return name;
  }
  return undefined;
}
