import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { reliabilityProfile } from "./reliability-profile.js";
import { formatSummary, readSummaryRows } from "./summary-row.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Folder where each part writes its summary row. */
    reliabilityResults: string;
  }
}

/**
 * Global setup of the reliability suite: a results folder for the parts' rows, and at the end
 * the summary table on stdout (also saved as summary.txt next to the rows' JSON, which is kept
 * when DETOUR_RELIABILITY_KEEP=1). The exit status is vitest's: any lost request, crash or
 * broken bound fails its part.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "detour-reliability-results-"));
  project.provide("reliabilityResults", dir);
  const started = Date.now();
  return () => {
    const rows = readSummaryRows(dir);
    const profile = reliabilityProfile().name;
    const text = formatSummary(rows, `detour reliability summary (DETOUR_RELIABILITY=${profile}, wall time ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    process.stdout.write(`\n${text}\n\n`);
    writeFileSync(join(dir, "summary.txt"), `${text}\n`);
    if (process.env.DETOUR_RELIABILITY_KEEP === "1") process.stdout.write(`rows kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
