import { describe, expect, it } from "vitest";
import { DetourError } from "./detour-error.js";
import { parseOverrides } from "./parse-overrides.js";
import { Topology } from "./topology.js";

const topology = Topology.fromDocument({
  format: 1,
  services: {
    ledger: { baseline: "v1", versions: ["v1", "v2", "pr-7"] },
    pricing: { baseline: "v1", versions: ["v1", "v2"] },
  },
  workloads: { "ledger/pr-7": { inject: "*=pr-7" } },
});

const set = (text: string) => parseOverrides(text, { strict: true }).set;

describe("Topology.route", () => {
  it.each([
    ["", "v1", undefined, false],
    ["ledger=v2", "v2", "v2", true],
    ["ledger=pr-7", "pr-7", "pr-7", true],
    ["*=pr-7", "pr-7", "pr-7", true],
    ["ledger=v1", "v1", "v1", false],
    ["ledger=v9", "v1", "v9", false], // a miss falls back, never rejects
    ["ledger=v9,*=pr-7", "v1", "v9", false], // a named entry beats the wildcard, as in the sidecar
    ["pricing=v2", "v1", undefined, false],
    ["*=pr-9", "v1", "pr-9", false],
  ])("%j routes ledger work to %s", (text, version, requested, overridden) => {
    expect(topology.route(set(text), "ledger")).toEqual({ version, requested, overridden });
  });

  it("knows nothing about services it does not have", () => {
    expect(topology.route(set("cart=v2"), "cart")).toBeUndefined();
    expect(topology.service("cart")).toBeUndefined();
  });

  it("compiles workload injections and defaults aliases and limits", () => {
    expect(topology.injection("ledger/pr-7")?.toString()).toBe("*=pr-7");
    expect(topology.injection("ledger/v1")).toBeUndefined();
    expect(topology.aliases).toEqual([]);
    expect(topology.limits).toEqual({ maxEntries: 32, maxValueBytes: 1024 });
    expect(Object.isFrozen(topology.document.services)).toBe(true);
  });
});

describe("Topology.fromDocument", () => {
  it.each([
    [null, "topology must be an object"],
    [{ format: 2, services: {} }, "topology format is 2"],
    [{ services: [] }, "topology services must be an object"],
    [{ services: { Ledger: { baseline: "v1", versions: ["v1"] } } }, "topology services.Ledger is not a service name"],
    [{ services: { ledger: { baseline: "v1", versions: [] } } }, "topology services.ledger.versions must be a non-empty array"],
    [{ services: { ledger: { baseline: "v1", versions: ["v1", "no/slash"] } } }, "topology services.ledger.versions[1]"],
    [{ services: { ledger: { baseline: "v3", versions: ["v1"] } } }, "topology services.ledger.baseline \"v3\" must be one of the service's versions (v1)"],
    [{ services: {}, workloads: { ledger: {} } }, "topology workloads.ledger is not a workload key"],
    [{ services: {}, workloads: { "ledger/v1": { inject: "ledger" } } }, "topology workloads.ledger/v1.inject"],
    [{ services: {}, aliases: [{ header: "x-detour", format: "pairs" }] }, "topology aliases"],
    [{ services: {}, limits: { maxEntries: 0 } }, "topology limits"],
  ])("refuses %j with a message naming the path", (document, message) => {
    expect(() => Topology.fromDocument(document)).toThrow(DetourError);
    expect(() => Topology.fromDocument(document)).toThrow(message);
  });
});
