import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import { decide } from "../decision/route-decision.js";
import { routingTableFromConfig } from "../decision/routing-table.js";
import { createMetrics } from "./ext-proc-metrics.js";

describe("ext_proc metrics", () => {
  it("counts every carrier problem by reason and carrier", async () => {
    const table = routingTableFromConfig(parseConfig({ services: { pricing: { baseline: "v1", versions: { v1: {}, v2: {} } } }, aliases: [{ header: "x-override", format: "pairs" }] }));
    const metrics = createMetrics();
    const decision = decide(
      {
        authority: "pricing",
        headers: [
          ["x-detour", "pricing, cart=V 2, pricing=v2"],
          ["baggage", "detour=pricing%3"],
          ["x-override", "cart"],
        ],
      },
      table,
    );
    metrics.recordDecision(decision, 0.0001);
    const text = await metrics.registry.metrics();
    const sample = (reason: string, carrier: string) =>
      Number(new RegExp(`^detour_ext_proc_carrier_problems_total\\{reason="${reason}",carrier="${carrier}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    expect(sample("missing-equals", "x-detour")).toBe(1);
    expect(sample("invalid-version", "x-detour")).toBe(1);
    expect(sample("bad-percent-encoding", "baggage")).toBe(1);
    expect(sample("missing-equals", "x-override")).toBe(1);
  });

  it("shows the plain-number counts at every scrape: requests, open streams, processing time", async () => {
    const table = routingTableFromConfig(parseConfig({ services: { pricing: { baseline: "v1", versions: { v1: {}, v2: {} } } } }));
    const metrics = createMetrics();
    const decision = decide({ authority: "pricing", headers: [["x-detour", "pricing=v2"]] }, table);
    metrics.streamOpened();
    metrics.streamOpened();
    metrics.recordDecision(decision, 0.00003);
    metrics.recordDecision(decision, 0.002);
    metrics.streamClosed();
    const first = await metrics.registry.metrics();
    expect(first).toMatch(/^detour_ext_proc_requests_total 2$/m);
    expect(first).toMatch(/^detour_ext_proc_active_streams 1$/m);
    expect(first).toMatch(/^detour_ext_proc_processing_seconds_count 2$/m);
    expect(first).toMatch(/^detour_ext_proc_processing_seconds_bucket\{le="0.00005"\} 1$/m);
    expect(first).toMatch(/^detour_ext_proc_decisions_total\{service="pricing",outcome="applied"\} 2$/m);
    metrics.recordDecision(decision, 0.00003);
    metrics.streamClosed();
    const second = await metrics.registry.metrics();
    expect(second).toMatch(/^detour_ext_proc_requests_total 3$/m);
    expect(second).toMatch(/^detour_ext_proc_active_streams 0$/m);
  });
});
