import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { delta, extProcClusterStats, extProcFilterTotals, pick } from "./support/envoy-ext-proc-stats.js";
import { runLoad } from "./support/load-generator.js";
import { describeRecovery, recoveryAfter, type Recovery } from "./support/recovery-time.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type Rig } from "./support/reliability-rig.js";
import { loadSummaryRow, recordSummaryRow } from "./support/summary-row.js";
import { cycle, trafficMix } from "./support/traffic-mix.js";

const profile = reliabilityProfile();

/** Time the steady stream runs between faults (overrides must apply all through it). */
const STEADY_MS = 2_000;
/** How long the server stays dead after SIGKILL before it is started again. */
const DOWN_MS = 2_000;

// A steady stream (half overridden) through one real Envoy while the ext_proc
// server binary is SIGKILLed and restarted, and SIGSTOPped beyond message_timeout and resumed.
// Fail-open outbound config: nothing may fail, overridden requests fall back to the baseline while
// ext_proc is away, and overrides apply again within 1 s of the server being back. Envoy is
// never restarted.
describe("load with ext_proc faults", () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("loses no request through kills, restarts, pauses and resumes", async () => {
    const server = rig.servers[0]!;
    const envoyPid = rig.envoy.pid;
    const statsBefore = await rig.envoy.stats();
    let faultsDone = false;
    let faults = 0;
    const windows: { label: string; from: number }[] = [];
    const faultTimes: number[] = [];
    const started = performance.now();

    const faultScript = async () => {
      try {
        await sleep(STEADY_MS);
        for (let round = 1; round <= profile.faultLoad.faultRounds; round++) {
          faultTimes.push(performance.now());
          await server.kill();
          faults++;
          await sleep(DOWN_MS);
          await server.start();
          windows.push({ label: `round ${round}: restart after SIGKILL (from "listening")`, from: server.readyAt });
          await sleep(STEADY_MS);
          faultTimes.push(performance.now());
          server.pause();
          faults++;
          await sleep(profile.faultLoad.pauseMs);
          server.resume();
          windows.push({ label: `round ${round}: SIGCONT after ${profile.faultLoad.pauseMs} ms SIGSTOP`, from: performance.now() });
          await sleep(STEADY_MS);
          rig.clearHits();
        }
      } finally {
        faultsDone = true;
      }
    };

    const [load] = await Promise.all([
      runLoad({
        port: rig.listenerPort,
        next: cycle(trafficMix(rig.config)),
        concurrency: profile.faultLoad.concurrency,
        intervalMs: profile.faultLoad.intervalMs,
        maxRequests: 1_000_000,
        maxDurationMs: 10 * 60_000,
        stop: () => faultsDone,
        timeline: true,
      }),
      faultScript(),
    ]);

    // Each recovery is judged until the next fault begins.
    const recoveries: Recovery[] = windows.map((window) =>
      recoveryAfter(load.timeline, window.label, window.from, faultTimes.find((at) => at > window.from) ?? Number.POSITIVE_INFINITY),
    );
    const statsAfter = await rig.envoy.stats();
    const filter = delta(extProcFilterTotals(statsAfter), extProcFilterTotals(statsBefore));
    const cluster = delta(extProcClusterStats(statsAfter), extProcClusterStats(statsBefore));
    const crashes = rig.crashes();
    recordSummaryRow(inject("reliabilityResults"), loadSummaryRow("load with faults", faults, load, crashes.count, started, [
        `${profile.faultLoad.faultRounds} round(s) of SIGKILL + restart and SIGSTOP ${profile.faultLoad.pauseMs} ms + SIGCONT; ${load.sent} requests at ${(load.sent / (load.durationMs / 1000)).toFixed(0)}/s, ${profile.faultLoad.concurrency} in flight`,
        ...recoveries.map(describeRecovery),
        `Envoy ext_proc filter: ${pick(filter, ["streams_started", "streams_failed", "failure_mode_allowed", "message_timeouts"])}`,
        `Envoy ext_proc cluster: ${pick(cluster, ["upstream_cx_total", "upstream_cx_connect_fail", "upstream_cx_destroy_remote", "upstream_cx_destroy_remote_with_active_rq"])}`,
        `Envoy pid ${rig.envoy.pid} all along (never restarted)`,
        ...load.failures.slice(0, 5),
        ...crashes.notes,
      ]));

    expect(load.failures, "lost requests").toEqual([]);
    expect(load.failed).toBe(0);
    expect(crashes.notes).toEqual([]);
    expect(rig.envoyExited()).toBe(false);
    expect(rig.envoy.pid).toBe(envoyPid);
    // The faults were real: requests did fall back while ext_proc was away...
    expect(load.fellBack).toBeGreaterThan(0);
    expect(filter.failure_mode_allowed ?? 0).toBeGreaterThan(0);
    // ...and overrides came back within 1 s of each recovery, with traffic after it to prove so.
    for (const recovery of recoveries) {
      expect(recovery.checkedAfterOneSecond, recovery.label).toBeGreaterThan(0);
      expect(recovery.failedAfterOneSecond, describeRecovery(recovery)).toBe(0);
      expect(recovery.lastFallbackMs, describeRecovery(recovery)).toBeLessThan(1_000);
    }
  });
});
