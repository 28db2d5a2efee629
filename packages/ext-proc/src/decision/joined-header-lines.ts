import type { HeaderPair } from "../header-pair.js";

/**
 * A header's field lines joined with "," (HTTP list semantics, RFC 9110 §5.3) and how many lines
 * there were (0 = absent). Envoy hands repeated non-inline headers to ext_proc as separate
 * entries, so the count tells a repeated header from a comma-joined one.
 */
export function joinedHeaderLines(headers: readonly HeaderPair[], name: string): { value: string | undefined; lines: number } {
  let value: string | undefined;
  let lines = 0;
  for (const [key, line] of headers) {
    if (key !== name) continue;
    value = value === undefined ? line : `${value},${line}`;
    lines++;
  }
  return { value, lines };
}
