import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import type { HeaderPair } from "../header-pair.js";
import { decide, PASS_THROUGH } from "./route-decision.js";
import { routingTableFromConfig } from "./routing-table.js";

const table = routingTableFromConfig(
  parseConfig({
    services: {
      pricing: { baseline: "v1", hosts: ["prices.example.internal"], versions: { v1: {}, v2: {} } },
      cart: { baseline: "v1", versions: { v1: {}, "pr-7": {} } },
      checkout: { baseline: "v1", miss: "reject", versions: { v1: {}, v2: {} } },
      catalog: { baseline: "v1", versions: { v1: {}, v2: {}, "pr-7": {} } },
    },
    workloads: { "cart/pr-7": { inject: "*=pr-7" }, "frontend/v1": {}, "jobs/v1": { inject: "pricing=v2" } },
    aliases: [{ header: "x-override", format: "pairs" }, { header: "virtual-cluster-name", format: "wildcard" }, { baggage: "okteto-divert" }],
  }),
);

function run(authority: string, headers: Record<string, string | string[]>, workload?: string) {
  const pairs: HeaderPair[] = [];
  for (const [name, value] of Object.entries(headers)) for (const line of [value].flat()) pairs.push([name, line]);
  return decide({ authority, headers: pairs, workload }, table);
}

describe("decide", () => {
  it("changes nothing and allocates nothing when no carrier is present and nothing is injected", () => {
    expect(run("pricing", {})).toBe(PASS_THROUGH);
    expect(run("pricing", { accept: "*/*" }, "frontend/v1")).toBe(PASS_THROUGH);
  });

  it("routes a named override to a known version with clear_route_cache", () => {
    const decision = run("pricing:8080", { "x-detour": "pricing=v2" });
    expect(decision.service).toBe("pricing");
    expect(decision.route).toBe("v2");
    expect(decision.setHeaders).toEqual([["baggage", "detour=pricing%3Dv2"], ["x-detour-route", "v2"]]);
    expect(decision.clearRouteCache).toBe(true);
    expect(decision.outcomes).toEqual(["requested", "applied"]);
  });

  it("leaves other services on the baseline but still normalizes the carriers", () => {
    const decision = run("cart", { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" });
    expect(decision.route).toBeUndefined();
    expect(decision.setHeaders).toEqual([]);
    expect(decision.removeHeaders).toEqual([]);
    expect(decision.clearRouteCache).toBe(false);
    expect(decision.outcomes).toEqual([]);
  });

  it("routes the baseline version explicitly when asked", () => {
    expect(run("pricing", { "x-detour": "pricing=v1" }).route).toBe("v1");
  });

  it("rewrites x-detour to canonical form", () => {
    const decision = run("pricing", { "x-detour": ["Pricing=v2 ,  cart=pr-7"], baggage: "detour=pricing%3Dv2%2Ccart%3Dpr-7" });
    expect(decision.setHeaders).toContainEqual(["x-detour", "pricing=v2,cart=pr-7"]);
  });

  it("reads the baggage member alone and writes x-detour from it", () => {
    const decision = run("pricing", { baggage: "other=1,detour=pricing%3Dv2;p=1" });
    expect(decision.route).toBe("v2");
    expect(decision.source).toBe("baggage");
    expect(decision.setHeaders).toContainEqual(["x-detour", "pricing=v2"]);
  });

  it("reads alias carriers", () => {
    expect(run("pricing", { "x-override": "pricing:v2" }).route).toBe("v2");
    expect(run("catalog", { "virtual-cluster-name": "pr-7" }).route).toBe("pr-7");
    expect(run("catalog", { baggage: "okteto-divert=pr-7" }).route).toBe("pr-7");
  });

  it("named beats wildcard", () => {
    expect(run("catalog", { "x-detour": "*=pr-7,catalog=v2" }).route).toBe("v2");
    expect(run("cart", { "x-detour": "*=pr-7,catalog=v2" }).route).toBe("pr-7");
  });

  it("a wildcard key a service lacks quietly leaves it on the baseline (not a miss)", () => {
    const decision = run("pricing", { "x-detour": "*=pr-7" });
    expect(decision.route).toBeUndefined();
    expect(decision.outcomes).toEqual([]);
    expect(run("checkout", { "x-detour": "*=pr-7" }).reject).toBeUndefined();
  });

  it("a named miss falls back by default", () => {
    const decision = run("pricing", { "x-detour": "pricing=v9" });
    expect(decision.route).toBeUndefined();
    expect(decision.requested).toBe("v9");
    expect(decision.outcomes).toEqual(["requested", "fallback"]);
    expect(decision.reject).toBeUndefined();
  });

  it("a named miss is rejected with a one-line reason where the service says so", () => {
    const decision = run("checkout", { "x-detour": "checkout=v9" });
    expect(decision.reject?.status).toBe(503);
    expect(decision.reject?.body).toBe("detour: service 'checkout' has no version 'v9' (known versions: v1, v2) and rejects unknown versions\n");
    expect(decision.outcomes).toEqual(["requested", "rejected"]);
    expect(decision.clearRouteCache).toBe(false);
  });

  it("a named entry with the same text as the wildcard is still a miss", () => {
    expect(run("checkout", { "x-detour": "checkout=pr-7,*=pr-7" }).reject).toBeDefined();
  });

  it("injects the workload's override under the request's own (request wins per service)", () => {
    const injected = run("catalog", {}, "cart/pr-7");
    expect(injected.route).toBe("pr-7");
    expect(injected.outcomes).toEqual(["injected", "requested", "applied"]);
    expect(injected.setHeaders).toContainEqual(["x-detour", "*=pr-7"]);

    const requestWins = run("pricing", { "x-detour": "pricing=v2" }, "jobs/v1");
    expect(requestWins.route).toBe("v2");
    const merged = run("catalog", { "x-detour": "catalog=v2" }, "cart/pr-7");
    expect(merged.route).toBe("v2");
    expect(merged.setHeaders).toContainEqual(["x-detour", "catalog=v2,*=pr-7"]);
    expect(run("pricing", { "x-detour": "cart=v1" }, "jobs/v1").route).toBe("v2");
  });

  it("drops malformed carriers without failing and counts them as invalid", () => {
    const decision = run("pricing", { "x-detour": "garbage,=,pricing=" });
    expect(decision.route).toBeUndefined();
    expect(decision.outcomes).toEqual(["invalid"]);
    expect(decision.removeHeaders).toEqual(["x-detour"]);
    expect(decision.problems.length).toBeGreaterThan(0);
  });

  it("ignores an oversized carrier whole and lets the next one win", () => {
    const huge = Array.from({ length: 40 }, (_, i) => `s${i}=v1`).join(",");
    const decision = run("pricing", { "x-detour": huge, baggage: "detour=pricing%3Dv2" });
    expect(decision.route).toBe("v2");
    expect(decision.outcomes).toContain("invalid");
    expect(decision.setHeaders).toContainEqual(["x-detour", "pricing=v2"]);
  });

  it("rewrites disagreeing carriers to the winner and counts a conflict", () => {
    const decision = run("pricing", { "x-detour": "pricing=v2", baggage: "a=1,detour=pricing%3Dv1", "x-override": "pricing:v1", "virtual-cluster-name": "pr-7" });
    expect(decision.route).toBe("v2");
    expect(decision.outcomes).toContain("conflict");
    expect(decision.setHeaders).toContainEqual(["baggage", "detour=pricing%3Dv2,a=1"]);
    expect(decision.setHeaders).toContainEqual(["x-override", "pricing:v2"]);
    expect(decision.removeHeaders).toContain("virtual-cluster-name");
  });

  it("removes an app-supplied x-detour-route and never trusts it", () => {
    const alone = run("pricing", { "x-detour-route": "v2" });
    expect(alone.route).toBeUndefined();
    expect(alone.removeHeaders).toEqual(["x-detour-route"]);
    expect(alone.clearRouteCache).toBe(true);
    const overwritten = run("pricing", { "x-detour-route": "v2", "x-detour": "pricing=v1" });
    expect(overwritten.setHeaders).toContainEqual(["x-detour-route", "v1"]);
  });

  it("resolves the destination from :authority: port, cluster domain and host map", () => {
    expect(run("pricing.shop.svc.cluster.local:80", { "x-detour": "pricing=v2" }).route).toBe("v2");
    expect(run("PRICING.svc.cluster.local", { "x-detour": "pricing=v2" }).route).toBe("v2");
    expect(run("prices.example.internal:443", { "x-detour": "pricing=v2" }).route).toBe("v2");
    const unknown = run("example.com", { "x-detour": "pricing=v2" });
    expect(unknown.service).toBeUndefined();
    expect(unknown.route).toBeUndefined();
  });
});
