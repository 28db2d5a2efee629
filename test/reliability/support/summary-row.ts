import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadResult } from "./load-generator.js";

/** One part of the suite, as its line in the summary table. */
export interface SummaryRow {
  readonly part: string;
  /** Faults injected (kills, pauses, bad configs, restarts...). */
  readonly faults: number;
  readonly sent: number;
  /** Answered correctly: the override applied, or the baseline where none was asked. */
  readonly succeeded: number;
  /** An override was asked but the baseline served (fail open while ext_proc was down or slow). */
  readonly fellBack: number;
  /** Lost requests: error status, connection error, timeout or a wrong version. */
  readonly failed: number;
  /** Hostile inputs tried. */
  readonly badInputs: number;
  /** Requests Envoy itself refused (illegal HTTP/1 header lines): not lost, counted and explained. */
  readonly envoyRejected: number;
  readonly crashes: number;
  readonly durationMs: number;
  /** Measurements worth reading next to the counts (recovery times, reconnects, memory trend). */
  readonly notes: readonly string[];
}

/** Written by each part into the run's results folder (provided by summary-setup.ts). */
export function recordSummaryRow(dir: string, row: SummaryRow): void {
  mkdirSync(dir, { recursive: true });
  const file = `${row.part.replace(/[^a-z0-9]+/gi, "-")}.json`;
  writeFileSync(join(dir, file), JSON.stringify({ ...row, recordedAt: Date.now() }));
}

export function readSummaryRows(dir: string): (SummaryRow & { recordedAt: number })[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".json"));
  } catch {
    return [];
  }
  return files.map((file) => JSON.parse(readFileSync(join(dir, file), "utf8")) as SummaryRow & { recordedAt: number }).sort((a, b) => a.recordedAt - b.recordedAt);
}

const COLUMNS: readonly [string, (row: SummaryRow) => string][] = [
  ["part", (row) => row.part],
  ["faults", (row) => String(row.faults)],
  ["sent", (row) => String(row.sent)],
  ["succeeded", (row) => String(row.succeeded)],
  ["fell back", (row) => String(row.fellBack)],
  ["failed", (row) => String(row.failed)],
  ["bad inputs", (row) => String(row.badInputs)],
  ["envoy 4xx", (row) => String(row.envoyRejected)],
  ["crashes", (row) => String(row.crashes)],
  ["time", (row) => `${(row.durationMs / 1000).toFixed(1)} s`],
];

/** The summary table (plain text, aligned), totals last, then each part's notes. */
export function formatSummary(rows: readonly SummaryRow[], title: string): string {
  const total: SummaryRow = {
    part: "TOTAL",
    faults: rows.reduce((sum, row) => sum + row.faults, 0),
    sent: rows.reduce((sum, row) => sum + row.sent, 0),
    succeeded: rows.reduce((sum, row) => sum + row.succeeded, 0),
    fellBack: rows.reduce((sum, row) => sum + row.fellBack, 0),
    failed: rows.reduce((sum, row) => sum + row.failed, 0),
    badInputs: rows.reduce((sum, row) => sum + row.badInputs, 0),
    envoyRejected: rows.reduce((sum, row) => sum + row.envoyRejected, 0),
    crashes: rows.reduce((sum, row) => sum + row.crashes, 0),
    durationMs: rows.reduce((sum, row) => sum + row.durationMs, 0),
    notes: [],
  };
  const table = [...rows, total].map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([name], index) => Math.max(name.length, ...table.map((cells) => cells[index]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join("  ");
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const out = [title, line(COLUMNS.map(([name]) => name)), rule];
  table.forEach((cells, index) => {
    if (index === table.length - 1) out.push(rule);
    out.push(line(cells));
  });
  for (const row of rows) {
    if (row.notes.length === 0) continue;
    out.push("", `${row.part}:`);
    for (const note of row.notes) out.push(`  - ${note}`);
  }
  return out.join("\n");
}

/** The row of a part that drove steady load while injecting faults (the counts come from the load). */
export function loadSummaryRow(part: string, faults: number, load: LoadResult, crashes: number, startedMs: number, notes: readonly string[]): SummaryRow {
  return {
    part,
    faults,
    sent: load.sent,
    succeeded: load.applied + load.baseline,
    fellBack: load.fellBack,
    failed: load.failed,
    badInputs: 0,
    envoyRejected: 0,
    crashes,
    durationMs: performance.now() - startedMs,
    notes,
  };
}
