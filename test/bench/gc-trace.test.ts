import { describe, expect, it } from "vitest";
// The benchmark's own reader of V8's --trace-gc lines (plain JavaScript, no types).
// @ts-expect-error bench/ is plain .mjs without declarations
import { createGcTally, gcDelta } from "../../bench/harness/gc-trace.mjs";

// Lines as Node 24 prints them; Node 20 has no "pooled: N MB,".
const SCAVENGE = "[7:0x1]     1062 ms: Scavenge 5.4 (6.6) -> 4.9 (7.6) MB, pooled: 0 MB, 0.86 / 0.00 ms  (average mu = 0.984, current mu = 0.987) allocation failure;\n";
const FULL_BIG_STEP =
  "[7:0x1]     2680 ms: Mark-Compact 28.1 (33.5) -> 17.2 (31.5) MB, pooled: 2 MB, 4.51 / 0.08 ms  (+ 14.0 ms in 16 steps since start of marking, biggest step 12.3 ms, walltime since start of marking 74 ms) (average mu = 0.983, current mu = 0.983) finalize incremental marking via task; GC in old space requested\n";
const FULL_BIG_PAUSE = "[7:0x1]     3093 ms: Mark-Compact 25.1 (27.3) -> 24.0 (28.5) MB, 10.5 / 0.0 ms  (+ 3.2 ms in 12 steps since start of marking, biggest step 1.2 ms, walltime since start of marking 30 ms) (average mu = 0.98, current mu = 0.98) finalize incremental marking via stack guard\n";
const FULL_NO_STEPS = "[7:0x1]     3500 ms: Mark-Compact 26.0 (28.0) -> 24.1 (28.5) MB, 7.5 / 0.0 ms  (average mu = 0.98, current mu = 0.98) external memory pressure\n";

describe("bench/harness/gc-trace.mjs", () => {
  it("counts collections, pause time and allocation, and keeps each main-thread stall", () => {
    const tally = createGcTally();
    const before = tally.snapshot();
    // Split mid-line: a chunk boundary does not lose a line.
    const text = SCAVENGE + FULL_BIG_STEP + "unrelated output\n" + FULL_BIG_PAUSE + FULL_NO_STEPS;
    tally.feed(text.slice(0, 100));
    tally.feed(text.slice(100));
    const delta = gcDelta(tally.snapshot(), before);
    expect(delta).toMatchObject({ collections: 4, scavenges: 1, fullCollections: 3 });
    expect(delta.pauseMs).toBeCloseTo(0.86 + 4.51 + 14.0 + 10.5 + 3.2 + 7.5, 6);
    expect(delta.allocatedMiB).toBeCloseTo(28.1 - 4.9 + (25.1 - 17.2) + (26.0 - 24.0), 6);
    expect(delta.scavengeMs).toEqual([0.86]);
    // A full collection's stall is the longer of its final pause and its biggest marking step.
    expect(delta.fullMs).toEqual([12.3, 10.5, 7.5]);
  });

  it("gives the stalls after a snapshot, not before", () => {
    const tally = createGcTally();
    tally.feed(SCAVENGE);
    const before = tally.snapshot();
    tally.feed(FULL_BIG_STEP);
    expect(gcDelta(tally.snapshot(), before)).toMatchObject({ collections: 1, scavengeMs: [], fullMs: [12.3] });
  });
});
