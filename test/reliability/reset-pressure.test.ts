import { describe, expect, inject, it } from "vitest";
import { delta, extProcClusterStats, extProcFilterTotals, pick } from "./support/envoy-ext-proc-stats.js";
import { runLoad, type LoadCase } from "./support/load-generator.js";
import { reliabilityProfile } from "./support/reliability-profile.js";
import { startRig, type RigOptions } from "./support/reliability-rig.js";
import { recordSummaryRow } from "./support/summary-row.js";
import { waitFor } from "../support/wait-for.js";

const profile = reliabilityProfile();

const OVERRIDDEN: LoadCase = { via: "frontend/v1", authority: "pricing", headers: { "x-detour": "pricing=v2" }, service: "pricing", baseline: "v1", override: "v2" };

/** Envoy counters that mean the server (or the network) ended an ext_proc connection. */
const REMOTE_CLOSES = ["upstream_cx_close_notify", "upstream_cx_destroy_remote", "upstream_cx_destroy_remote_with_active_rq", "http2.goaway_received"] as const;

interface PressureRun {
  readonly sent: number;
  readonly applied: number;
  readonly fellBack: number;
  readonly failed: number;
  readonly failures: readonly string[];
  readonly durationMs: number;
  readonly cluster: Record<string, number>;
  readonly filter: Record<string, number>;
  /** The server's own count of request_headers messages and its open streams afterwards. */
  readonly serverRequests: number;
  readonly serverActiveStreams: number;
  readonly serverWarnings: number;
  readonly crashes: number;
}

/** `requests` overridden requests as fast as `concurrency` allows through one Envoy worker. */
async function pressure(mitigations: RigOptions["mitigations"], requests: number): Promise<PressureRun> {
  const rig = await startRig({ mitigations });
  try {
    const server = rig.servers[0]!;
    const before = await rig.envoy.stats();
    const requestsBefore = await server.metric("detour_ext_proc_requests_total");
    const load = await runLoad({
      port: rig.listenerPort,
      next: () => OVERRIDDEN,
      concurrency: profile.resetPressure.concurrency,
      maxRequests: requests,
      maxDurationMs: 15 * 60_000,
    });
    // Streams end after the answers: give the last ones a moment before reading the gauge.
    const serverActiveStreams = await waitFor(async () => ((await server.metric("detour_ext_proc_active_streams")) === 0 ? 0 : undefined), { timeoutMs: 10_000 }).catch(
      () => server.metric("detour_ext_proc_active_streams"),
    );
    const after = await rig.envoy.stats();
    return {
      sent: load.sent,
      applied: load.applied,
      fellBack: load.fellBack,
      failed: load.failed,
      failures: load.failures,
      durationMs: load.durationMs,
      cluster: delta(extProcClusterStats(after), extProcClusterStats(before)),
      filter: delta(extProcFilterTotals(after), extProcFilterTotals(before)),
      serverRequests: (await server.metric("detour_ext_proc_requests_total")) - requestsBefore,
      serverActiveStreams,
      serverWarnings: server.warnings().length,
      crashes: rig.crashes().count,
    };
  } finally {
    await rig.close();
  }
}

function describeRun(name: string, run: PressureRun): string {
  const remote = REMOTE_CLOSES.reduce((sum, stat) => sum + (run.cluster[stat] ?? 0), 0);
  return (
    `${name}: ${run.sent} overridden requests at ${(run.sent / (run.durationMs / 1000)).toFixed(0)}/s -> applied ${run.applied}, fell back ${run.fellBack}, failed ${run.failed}; ` +
    `connections ${run.cluster.upstream_cx_total ?? 0} (reconnects ${Math.max(0, (run.cluster.upstream_cx_total ?? 0) - 1)}), closed by the server ${remote}; ` +
    `${pick(run.cluster, ["upstream_cx_max_requests", "upstream_cx_close_notify", "upstream_cx_destroy_remote_with_active_rq", "http2.tx_reset", "http2.rx_reset", "upstream_cx_protocol_error"])}; ` +
    `ext_proc ${pick(run.filter, ["streams_failed", "failure_mode_allowed"])}; server saw ${run.serverRequests} requests, ${run.serverActiveStreams} streams open after`
  );
}

function remoteCloses(run: PressureRun): Record<string, number> {
  return Object.fromEntries(REMOTE_CLOSES.map((stat) => [stat, run.cluster[stat] ?? 0]));
}

// Envoy resets every ext_proc stream unless graceful close is on, and Node's
// HTTP/2 server (nghttp2's rapid-reset limiter: burst 1000, then ~33/s) answers a busy sidecar
// connection with GOAWAY. The generated config carries two mitigations: the graceful close
// runtime flag and max_requests_per_connection on the ext_proc cluster. Each run starts a
// fresh rig (one Envoy worker, --concurrency 1, so one connection at a time to the server).
describe("HTTP/2 stream-reset pressure on the ext_proc connection", () => {
  const notes: string[] = [];
  const totals = { sent: 0, succeeded: 0, fellBack: 0, failed: 0, crashes: 0, durationMs: 0 };
  const add = (run: PressureRun) => {
    totals.sent += run.sent;
    totals.succeeded += run.applied;
    totals.fellBack += run.fellBack;
    totals.failed += run.failed;
    totals.crashes += run.crashes;
    totals.durationMs += run.durationMs;
  };
  const record = () =>
    recordSummaryRow(inject("reliabilityResults"), { part: "HTTP/2 reset pressure", faults: 0, badInputs: 0, envoyRejected: 0, ...totals, notes });

  it("generated config: every override applies, connections are recycled by Envoy, never closed by the server", async () => {
    const run = await pressure("generated", profile.resetPressure.requests);
    add(run);
    notes.push(describeRun("generated config (graceful close + max_requests_per_connection)", run));
    record();
    expect(run.failures).toEqual([]);
    expect({ applied: run.applied, fellBack: run.fellBack, failed: run.failed, crashes: run.crashes }).toEqual({ applied: run.sent, fellBack: 0, failed: 0, crashes: 0 });
    expect(remoteCloses(run)).toEqual(Object.fromEntries(REMOTE_CLOSES.map((stat) => [stat, 0])));
    // Every reconnect is Envoy's own recycling at max_requests_per_connection.
    expect(run.cluster.upstream_cx_destroy_local ?? 0).toBe(run.cluster.upstream_cx_max_requests ?? 0);
    expect(run.cluster["http2.tx_reset"] ?? 0, "graceful close: no stream is reset").toBe(0);
    expect(run.serverRequests).toBe(run.sent);
    expect(run.serverActiveStreams).toBe(0);
  });

  it("graceful close alone: everything over one connection, no GOAWAY", async () => {
    const run = await pressure("graceful-close-only", profile.resetPressure.requests);
    add(run);
    notes.push(describeRun("graceful close only (one connection)", run));
    record();
    expect(run.failures).toEqual([]);
    expect({ applied: run.applied, fellBack: run.fellBack, failed: run.failed, crashes: run.crashes }).toEqual({ applied: run.sent, fellBack: 0, failed: 0, crashes: 0 });
    expect(run.cluster.upstream_cx_total, "one connection carried every stream").toBe(1);
    expect(remoteCloses(run)).toEqual(Object.fromEntries(REMOTE_CLOSES.map((stat) => [stat, 0])));
    expect(run.serverRequests).toBe(run.sent);
    expect(run.serverActiveStreams).toBe(0);
  });

  it.runIf(profile.resetPressure.controlRequests > 0)("control: without either mitigation Node answers the resets with GOAWAY (fail open hides it)", async () => {
    const run = await pressure("none", profile.resetPressure.controlRequests);
    add(run);
    notes.push(describeRun("control, no mitigations", run));
    record();
    // Fail open keeps traffic flowing, but overrides are lost at each GOAWAY: this is what the
    // generated config prevents. Nothing here may fail outright.
    expect(run.failed).toBe(0);
    expect(run.crashes).toBe(0);
  });
});
