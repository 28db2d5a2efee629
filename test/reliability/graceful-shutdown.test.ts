import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";
import { delta, extProcClusterStats, extProcFilterTotals, pick } from "./support/envoy-ext-proc-stats.js";
import { runLoad, type LoadResult } from "./support/load-generator.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type Rig } from "./support/reliability-rig.js";
import { loadSummaryRow, recordSummaryRow, type SummaryRow } from "./support/summary-row.js";
import { cycle, trafficMix } from "./support/traffic-mix.js";

const profile = reliabilityProfile();
const STEADY_MS = 1_500;
const GRACE_OVER = "shutdown grace period over: cancelling the remaining streams";

/** Runs the steady mix while `script` runs, then a moment longer. */
async function underLoad(rig: Rig, script: () => Promise<void>): Promise<LoadResult> {
  let done = false;
  const [load] = await Promise.all([
    runLoad({
      port: rig.listenerPort,
      next: cycle(trafficMix(rig.config)),
      concurrency: profile.shutdown.concurrency,
      intervalMs: profile.shutdown.intervalMs,
      maxRequests: 1_000_000,
      maxDurationMs: 10 * 60_000,
      stop: () => done,
      timeline: true,
    }),
    (async () => {
      try {
        await script();
      } finally {
        done = true;
      }
    })(),
  ]);
  return load;
}

// SIGTERM under load. One server: the streams in flight when the signal comes
// are answered (the server drains them within server.shutdownGraceMs and exits 0), later requests
// fail open to the baseline. Two servers in Envoy's ext_proc cluster: a rolling restart (one at a
// time, each waited for) loses no request, and with the generated retry policy not even an override.
describe("graceful shutdown under load", () => {
  const rows: SummaryRow[] = [];
  const record = () => {
    const sum = (pickValue: (row: SummaryRow) => number) => rows.reduce((total, row) => total + pickValue(row), 0);
    recordSummaryRow(inject("reliabilityResults"), {
      part: "graceful shutdown",
      faults: sum((row) => row.faults),
      sent: sum((row) => row.sent),
      succeeded: sum((row) => row.succeeded),
      fellBack: sum((row) => row.fellBack),
      failed: sum((row) => row.failed),
      badInputs: 0,
      envoyRejected: 0,
      crashes: sum((row) => row.crashes),
      durationMs: sum((row) => row.durationMs),
      notes: rows.flatMap((row) => row.notes),
    });
  };

  it("one server: SIGTERM drains the streams in flight and exits 0", async () => {
    const rig = await startRig();
    try {
      const server = rig.servers[0]!;
      let signalledAt = 0;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const started = performance.now();
      const load = await underLoad(rig, async () => {
        await sleep(STEADY_MS);
        signalledAt = performance.now();
        exit = await server.terminate();
        await sleep(STEADY_MS);
      });
      const shutdownLine = server.logLines("shutting down: finishing in-flight streams")[0];
      const graceOver = server.logLines(GRACE_OVER).length;
      const inFlight = load.timeline.filter((entry) => entry.overridden && entry.startedAt < signalledAt && entry.endedAt > signalledAt);
      const before = load.timeline.filter((entry) => entry.overridden && entry.endedAt <= signalledAt);
      const crashes = rig.crashes();
      rows.push(loadSummaryRow("SIGTERM", 1, load, crashes.count, started, [
          `one server, SIGTERM under load: exit ${JSON.stringify(exit)}; ${String(shutdownLine?.activeStreams ?? "?")} streams open at the signal, drained (grace-period-over lines: ${graceOver})`,
          `overridden requests in flight at the signal: ${inFlight.length} (applied ${inFlight.filter((e) => e.outcome === "applied").length}, fell back ${inFlight.filter((e) => e.outcome === "fell-back").length}); after it, with no server, the rest fell back to the baseline`,
          ...load.failures.slice(0, 5),
          ...crashes.notes,
        ]));
      record();
      expect(load.failures).toEqual([]);
      expect(load.failed).toBe(0);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(shutdownLine).toBeDefined();
      expect(graceOver, "every in-flight stream finished within the grace period").toBe(0);
      expect(crashes.notes).toEqual([]);
      expect(before.every((entry) => entry.outcome === "applied"), "overrides applied until the signal").toBe(true);
    } finally {
      await rig.close();
    }
  });

  it(`two servers: ${profile.shutdown.rollingRounds} rolling restart round(s) lose no request and no override`, async () => {
    const rig = await startRig({ servers: 2 });
    try {
      const statsBefore = await rig.envoy.stats();
      const exits: string[] = [];
      let faults = 0;
      const started = performance.now();
      const load = await underLoad(rig, async () => {
        await sleep(STEADY_MS);
        for (let round = 1; round <= profile.shutdown.rollingRounds; round++) {
          for (const server of rig.servers) {
            const exit = await server.terminate();
            faults++;
            exits.push(`${server.name}: exit ${exit.code ?? exit.signal}`);
            await server.start();
            await sleep(STEADY_MS);
          }
          rig.clearHits();
        }
      });
      const statsAfter = await rig.envoy.stats();
      const filter = delta(extProcFilterTotals(statsAfter), extProcFilterTotals(statsBefore));
      const cluster = delta(extProcClusterStats(statsAfter), extProcClusterStats(statsBefore));
      const crashes = rig.crashes();
      rows.push(loadSummaryRow("rolling restart", faults, load, crashes.count, started, [
          `two servers, ${profile.shutdown.rollingRounds} rolling round(s) (SIGTERM, wait for exit, start, wait for "listening"): ${exits.join(", ")}`,
          `${load.sent} requests, ${load.fellBack} overridden ones fell back to the baseline while a server was going away`,
          `Envoy ext_proc filter: ${pick(filter, ["streams_started", "streams_failed", "failure_mode_allowed"])}; cluster: ${pick(cluster, ["upstream_cx_total", "upstream_cx_connect_fail", "upstream_cx_close_notify", "upstream_rq_retry", "upstream_rq_retry_success", "upstream_rq_retry_overflow"])}`,
          ...load.failures.slice(0, 5),
          ...crashes.notes,
        ]));
      record();
      expect(load.failures).toEqual([]);
      expect(load.failed).toBe(0);
      // The generated config retries a stream no server answered on the other server
      // (grpc_service.retry_policy), so not even an override is lost.
      expect(load.fellBack, "overrides lost during the rolling restart").toBe(0);
      expect(exits.every((line) => line.endsWith("exit 0")), exits.join(", ")).toBe(true);
      expect(crashes.notes).toEqual([]);
    } finally {
      await rig.close();
    }
  });
});
