// Reads V8's `--trace-gc` lines from a server's output: how many collections ran, how long the
// main thread paused for them, and how much the JavaScript heap grew between them (what was
// allocated). The line format is the same on Node 20, 22 and 24 but for 22's `pooled: N MB,`:
//   [pid:0x…]  1062 ms: Scavenge 5.4 (6.6) -> 4.9 (7.6) MB, pooled: 0 MB, 0.86 / 0.00 ms  (average mu …
//   [pid:0x…]  2093 ms: Mark-Compact 25.1 (27.3) -> 24.0 (28.5) MB, 10.5 / 0.0 ms  (+ 3.2 ms in 12 steps
//     since start of marking, biggest step 1.2 ms, …
// Besides the totals it keeps each main-thread stall: a scavenge's pause, and for a full
// collection the longer of its final pause and its biggest incremental marking step (both stop
// the main thread, and every request in flight waits for them).

const LINE = /ms: ([A-Z][A-Za-z -]*?(?: \([a-z ]+\))?) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB,(?: pooled: [\d.]+ MB,)? ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in \d+ steps(?:[^)]*?biggest step ([\d.]+) ms)?)?/;

/**
 * A running tally of one process's GC lines; feed it output chunks as they arrive and take
 * snapshots around a measurement. Allocation is estimated as the heap size before each
 * collection minus the size after the previous one (MB in the trace are MiB with one decimal,
 * so each step is ±0.05 MiB; over hundreds of collections that averages out).
 */
export function createGcTally() {
  let pending = "";
  let lastAfterMiB;
  const totals = { collections: 0, scavenges: 0, fullCollections: 0, pauseMs: 0, allocatedMiB: 0 };
  const stalls = { scavengeMs: [], fullMs: [] };
  return {
    feed(chunk) {
      pending += chunk;
      let newline;
      while ((newline = pending.indexOf("\n")) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const match = LINE.exec(line);
        if (!match) continue;
        const [, kind, before, , after, , pause, incremental, biggestStep] = match;
        totals.collections++;
        if (kind.startsWith("Scavenge") || kind.startsWith("Minor")) {
          totals.scavenges++;
          stalls.scavengeMs.push(Number(pause));
        } else {
          totals.fullCollections++;
          stalls.fullMs.push(Math.max(Number(pause), Number(biggestStep ?? 0)));
        }
        totals.pauseMs += Number(pause) + Number(incremental ?? 0);
        if (lastAfterMiB !== undefined) totals.allocatedMiB += Math.max(0, Number(before) - lastAfterMiB);
        lastAfterMiB = Number(after);
      }
    },
    snapshot: () => ({ ...totals, scavengeMs: [...stalls.scavengeMs], fullMs: [...stalls.fullMs] }),
  };
}

/** What happened between two snapshots (the stall lists: the stalls after `before`). */
export function gcDelta(after, before) {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, Array.isArray(value) ? value.slice(before[key].length) : value - before[key]]));
}
