import { parseOverrides } from "@detour/core";
import { describe, expect, it } from "vitest";
import { diagLogger } from "./messaging-logger.js";
import { SelectiveConsumption, type Drain, type InboxDriver } from "./selective-consumption.js";
import { fixedTopology } from "./topology-source.js";
import { parseWorkload } from "./workload.js";

/**
 * The broker-neutral decisions and lifecycle, against an in-memory inbox listing (the broker
 * drivers themselves are tested against real brokers in test/messaging).
 */
function memoryDriver(inboxes: Map<string, Set<string>>) {
  const calls: string[] = [];
  let empty = false;
  const driver: InboxDriver = {
    listInboxes: async () => new Map(inboxes),
    ensureInbox: async (version) => void (inboxes.set(version, new Set(["orders"])), calls.push(`ensure ${version}`)),
    startDrain: async (version): Promise<Drain> => {
      calls.push(`drain ${version}`);
      return { lastActivityAt: 0, isEmpty: async () => empty, stop: async () => void calls.push(`stop ${version}`) };
    },
    removeInbox: async (version) => (inboxes.delete(version), calls.push(`remove ${version}`), true),
  };
  return { driver, calls, setEmpty: (value: boolean) => (empty = value) };
}

const topologyWith = (versions: string[]) => fixedTopology({ services: { ledger: { baseline: "v1", versions } } });
const set = (text: string) => parseOverrides(text).set;

async function start(workload: string, topology: ReturnType<typeof topologyWith>, driver: InboxDriver) {
  const selection = await SelectiveConsumption.start({ workload: parseWorkload(workload, "test"), topology, driver, logger: diagLogger, reconcileMs: 60_000, drainQuietMs: 0 });
  await selection.begin();
  return selection;
}

describe("SelectiveConsumption", () => {
  it("forwards only to live versions with an inbox for the subscription; everything else stays", async () => {
    const { driver } = memoryDriver(new Map([["v2", new Set(["orders"])], ["pr-7", new Set(["orders"])]]));
    const selection = await start("ledger/v1", topologyWith(["v1", "v2", "pr-7", "v3"]), driver);
    expect(selection.role).toBe("baseline");
    expect(selection.forwardTarget(set("ledger=v2"), "orders")).toBe("v2");
    expect(selection.forwardTarget(set("*=pr-7"), "orders")).toBe("pr-7");
    expect(selection.forwardTarget(set("ledger=v2"), "payments")).toBeUndefined(); // no inbox for that subscription
    expect(selection.forwardTarget(set("ledger=v3"), "orders")).toBeUndefined(); // live, but no consumer: baseline
    expect(selection.forwardTarget(set("ledger=v9"), "orders")).toBeUndefined();
    expect(selection.forwardTarget(set("ledger=v1"), "orders")).toBeUndefined();
    expect(selection.forwardTarget(set(""), "orders")).toBeUndefined();
    await selection.stop();
  });

  it("drains a version the topology dropped, removes its inbox once empty, and forwards nothing to it meanwhile", async () => {
    const topology = topologyWith(["v1", "pr-7"]);
    const { driver, calls, setEmpty } = memoryDriver(new Map([["pr-7", new Set(["orders"])]]));
    const selection = await start("ledger/v1", topology, driver);
    expect(selection.forwardTarget(set("*=pr-7"), "orders")).toBe("pr-7");
    topology.replace({ services: { ledger: { baseline: "v1", versions: ["v1"] } } });
    await selection.reconcile();
    expect(selection.forwardTarget(set("*=pr-7"), "orders")).toBeUndefined();
    expect(selection.status().draining).toEqual(["pr-7"]);
    await selection.reconcile();
    expect(calls).toEqual(["drain pr-7"]); // not empty yet
    setEmpty(true);
    await selection.reconcile();
    expect(calls).toEqual(["drain pr-7", "stop pr-7", "remove pr-7"]);
    await selection.stop();
  });

  it("gives a version its own inbox and refuses a service the topology does not have", async () => {
    const { driver, calls } = memoryDriver(new Map());
    const selection = await start("ledger/pr-7", topologyWith(["v1", "pr-7"]), driver);
    expect(selection.role).toBe("version");
    expect(calls).toEqual(["ensure pr-7"]);
    expect(selection.forwardTarget(set("*=pr-7"), "orders")).toBeUndefined();
    await selection.stop();
    await expect(start("billing/v1", topologyWith(["v1"]), driver)).rejects.toMatchObject({ code: "unknown-service" });
  });
});
