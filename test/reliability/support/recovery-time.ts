import type { TimelineEntry } from "./load-generator.js";

export interface Recovery {
  readonly label: string;
  /** ms from the recovery event to the start of the first request the override applied to again. */
  readonly firstAppliedMs: number | undefined;
  /** ms from the recovery event to the start of the last overridden request that still fell back (0: none). */
  readonly lastFallbackMs: number;
  /** Overridden requests started between 1 s after the event and the window's end (must all apply). */
  readonly checkedAfterOneSecond: number;
  readonly failedAfterOneSecond: number;
}

/**
 * How fast overrides came back after a recovery event (`from`: the restarted server logged that it
 * listens, or the paused one got SIGCONT), looking at requests started at or after `from` and
 * finished before `until` (the next fault).
 */
export function recoveryAfter(timeline: readonly TimelineEntry[], label: string, from: number, until: number): Recovery {
  let firstApplied: number | undefined;
  let lastFallback = 0;
  let checked = 0;
  let failed = 0;
  for (const entry of timeline) {
    // Only requests over before the next fault began: one still in flight when the server is
    // stopped again falls back because of that fault, not this recovery.
    if (!entry.overridden || entry.startedAt < from || entry.endedAt >= until) continue;
    const at = entry.startedAt - from;
    if (entry.outcome === "applied") firstApplied = firstApplied === undefined ? at : Math.min(firstApplied, at);
    if (entry.outcome === "fell-back") lastFallback = Math.max(lastFallback, at);
    if (at >= 1_000) {
      checked++;
      if (entry.outcome !== "applied") failed++;
    }
  }
  return { label, firstAppliedMs: firstApplied, lastFallbackMs: lastFallback, checkedAfterOneSecond: checked, failedAfterOneSecond: failed };
}

export function describeRecovery(recovery: Recovery): string {
  const first = recovery.firstAppliedMs === undefined ? "never" : `${recovery.firstAppliedMs.toFixed(0)} ms`;
  return `${recovery.label}: first override applied ${first} after, last fallback started ${recovery.lastFallbackMs.toFixed(0)} ms after; ${recovery.checkedAfterOneSecond - recovery.failedAfterOneSecond}/${recovery.checkedAfterOneSecond} overridden requests from +1 s on applied`;
}
