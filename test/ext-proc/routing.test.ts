import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvoyProcess } from "@detour/cli/envoy";
import { createExtProcServer, type ExtProcServer } from "@detour/ext-proc";
import { extProcStreamsStarted, startSidecars, startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { metricValue } from "../support/prometheus-text.js";
import { caseHeaders, expectRoutingOutcome, routingCases } from "../support/routing-cases.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";

const cases = routingCases;

// Real Envoy, the real ext_proc server (in-process here: process behaviour is covered by
// lifecycle.test.ts) and one small upstream per service version.
describe("ext_proc routing through real Envoy", () => {
  let upstreams: Upstreams;
  let server: ExtProcServer;
  let envoy: EnvoyProcess;
  let metricsPort = 0;
  const requestsProcessed = async () => metricValue(await server.metrics.registry.metrics(), "detour_ext_proc_requests_total");

  beforeAll(async () => {
    upstreams = await startTopologyUpstreams();
    server = createExtProcServer(upstreams.config);
    const addresses = await server.start();
    metricsPort = addresses.metricsPort;
    envoy = await startSidecars(upstreams.config, addresses.grpcPort);
  });
  afterAll(async () => {
    await envoy?.stop();
    await server?.stop({ graceMs: 1_000 });
    await upstreams?.close();
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const via = testCase.via ?? "frontend/v1";
    const headers = caseHeaders(testCase);
    const streamsBefore = await extProcStreamsStarted(envoy, via);
    const processedBefore = await requestsProcessed();

    const response = await sendThroughSidecar(envoy.listenerPort(`outbound:${via}`), testCase.authority, { headers, path: "/quote" });

    const expected = testCase.expect;
    expectRoutingOutcome(response, expected);
    if (expected.extProc !== undefined) {
      const streamsAfter = await extProcStreamsStarted(envoy, via);
      // Counted on both sides: Envoy's streams_started and the server's own request counter.
      expect(streamsAfter - streamsBefore, `ext_proc streams for ${via}`).toBe(expected.extProc === "called" ? 1 : 0);
      expect((await requestsProcessed()) - processedBefore, "requests the server processed").toBe(expected.extProc === "called" ? 1 : 0);
    }
  });

  it("counted the decisions in /metrics and never had Envoy reject a mutation", async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const decisions = (service: string, outcome: string) => metricValue(text, "detour_ext_proc_decisions_total", { service, outcome });
    expect(decisions("pricing", "applied")).toBeGreaterThanOrEqual(5);
    expect(decisions("pricing", "fallback")).toBe(1);
    expect(decisions("checkout", "rejected")).toBe(1);
    expect(decisions("catalog", "injected")).toBeGreaterThanOrEqual(2);
    expect(decisions("pricing", "invalid")).toBeGreaterThanOrEqual(4);
    expect(decisions("pricing", "conflict")).toBe(1);
    expect(metricValue(text, "detour_ext_proc_requests_total")).toBeGreaterThan(20);
    expect(metricValue(text, "detour_ext_proc_processing_seconds_count")).toBe(metricValue(text, "detour_ext_proc_requests_total"));
    expect(metricValue(text, "detour_ext_proc_active_streams")).toBeGreaterThanOrEqual(0);

    const stats = await envoy.stats();
    let rejected = 0;
    let ignored = 0;
    let failed = 0;
    for (const [name, value] of stats) {
      if (name.endsWith("ext_proc.rejected_header_mutations")) rejected += value;
      if (name.endsWith("ext_proc.clear_route_cache_ignored")) ignored += value;
      if (name.endsWith("ext_proc.streams_failed")) failed += value;
    }
    expect({ rejected, ignored, failed }).toEqual({ rejected: 0, ignored: 0, failed: 0 });
  });
});
