import { DetourError, isHeaderName } from "@detour/core";

/** A request header as ext_proc sees it: lower-case name, one entry per field line. */
export type HeaderLine = readonly [name: string, value: string];

/**
 * Parses `Name: value` lines as typed after -H or pasted on stdin. Lines copied from `curl -v`
 * keep working: their `> ` prefix, the request line (`GET / HTTP/1.1`) and blank lines are
 * skipped. Names are lower-cased; repeated names stay separate lines (one list, RFC 9110 §5.3).
 */
export function parseHeaderLines(lines: readonly string[]): HeaderLine[] {
  const headers: HeaderLine[] = [];
  for (const original of lines) {
    let line = original.replace(/\r$/, "");
    if (line === ">" || line.startsWith("> ")) line = line.slice(2);
    if (line.trim() === "" || line.startsWith("*") || line.startsWith("<") || /^[A-Z]+ \S+ HTTP\/[\d.]+$/.test(line.trim())) continue;
    const colon = line.indexOf(":");
    const name = colon <= 0 ? "" : line.slice(0, colon).trim();
    if (!isHeaderName(name)) {
      throw new DetourError("headers-invalid", `header line ${JSON.stringify(original)} is not 'Name: value': write e.g. -H 'x-detour: pricing=v2'`);
    }
    headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return headers;
}
