import { readFileSync } from "node:fs";

/**
 * Loads a table of cases from this folder (test-only; not part of the package). The tables are data so
 * a new case is one entry, and so implementations in other languages can run the same vectors.
 */
export function loadCases<T>(file: string): T[] {
  const url = new URL(file, import.meta.url);
  const parsed = JSON.parse(readFileSync(url, "utf8")) as { cases: T[] };
  return parsed.cases;
}
