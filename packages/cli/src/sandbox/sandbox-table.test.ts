import type { TopologyStatus } from "@detour/ext-proc/kubernetes";
import { describe, expect, it } from "vitest";
import { sandboxTable, shortDuration } from "./sandbox-table.js";
import { parseWorkload } from "./expire-version.js";

const NOW = Date.parse("2026-05-01T12:00:00Z");

const status: TopologyStatus = {
  source: "kubernetes",
  generatedAt: "2026-05-01T12:00:00.000Z",
  kubernetes: { namespaces: ["shop"], synced: true, stale: false, leader: true, identity: "detour-ext-proc-0_ab12", routingObjects: "istio" },
  services: [
    {
      name: "pricing",
      origin: "static+discovered",
      namespace: "shop",
      baseline: "v1",
      miss: "fallback",
      versions: [
        { name: "pr-7", origin: "discovered", routable: true, readyPods: 2, expiresAt: "2026-05-01T14:05:00.000Z", expired: false, deployments: ["pricing-pr-7"], requested: 12, applied: 12 },
        { name: "pr-8", origin: "discovered", routable: false, readyPods: 0, expiresAt: "2026-05-01T11:00:00.000Z", expired: true, deployments: ["pricing-pr-8"], requested: 3, applied: 1 },
        { name: "v1", origin: "static+discovered", routable: true, readyPods: 3, requested: 0, applied: 0 },
        { name: "v2", origin: "static", routable: true, requested: 5, applied: 5 },
      ],
    },
  ],
  problems: [{ code: "no-baseline", object: "Service shop/search", message: "service 'search' has no baseline" }],
  problemCount: 1,
};

describe("detour sandbox list", () => {
  it("lists discovered versions with state, pods, expiry and counts, then the problems", () => {
    expect(sandboxTable(status, { now: NOW })).toBe(
      [
        "SERVICE  VERSION        STATE    PODS  EXPIRES                              REQUESTED  APPLIED",
        "pricing  pr-7           live     2     2026-05-01T14:05:00.000Z (in 2h 5m)  12         12",
        "pricing  pr-8           expired  0     2026-05-01T11:00:00.000Z (passed)    3          1",
        "pricing  v1 (baseline)  live     3     -                                    0          0",
        "",
        "1 problem(s):",
        "  no-baseline: Service shop/search: service 'search' has no baseline",
        "",
      ].join("\n"),
    );
  });

  it("adds detour.yaml's versions with --all, and says when the topology is stale", () => {
    const stale: TopologyStatus = { ...status, kubernetes: { ...status.kubernetes!, stale: true, staleSince: "2026-05-01T11:59:30.000Z" }, problems: [], problemCount: 0 };
    const text = sandboxTable(stale, { all: true, now: NOW });
    expect(text).toContain("pricing  v2             live     -     -");
    expect(text).toContain("topology stale since 2026-05-01T11:59:30.000Z");
  });

  it("says what a server without discovery is", () => {
    expect(sandboxTable({ ...status, source: "static", kubernetes: undefined, services: [], problems: [], problemCount: 0 })).toContain("this server reads only its config file");
  });

  it("writes durations short", () => {
    expect([shortDuration(45_000), shortDuration(3_725_000), shortDuration(3 * 86_400_000 + 4 * 3_600_000 + 60_000), shortDuration(0)]).toEqual(["45s", "1h 2m", "3d 4h", "0s"]);
  });

  it("reads SERVICE/VERSION or says how to write it", () => {
    expect(parseWorkload("pricing/pr-7")).toEqual({ service: "pricing", version: "pr-7" });
    expect(parseWorkload("Pricing/PR-7"), "service names are lower-cased, versions kept").toEqual({ service: "pricing", version: "PR-7" });
    for (const text of ["pricing", "pricing/", "/v1", "pri_cing/v1", "pricing/v1/x"]) expect(() => parseWorkload(text)).toThrow(/is not SERVICE\/VERSION: write e\.g\. pricing\/pr-7/);
  });
});
