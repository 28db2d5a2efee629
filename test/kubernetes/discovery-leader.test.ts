import { CoordinationV1Api, type KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { waitFor } from "../support/wait-for.js";
import { ClusterWorkloads, TEAM_FIELD_MANAGER } from "./support/cluster-workloads.js";
import { startDiscoveryRig, topologyOf, waitUntilReady, type DiscoveryRig } from "./support/discovery-rig.js";
import type { ExtProcProcess } from "../support/ext-proc-process.js";
import { startRouteLoad } from "./support/route-load.js";
import { sharedApiServer } from "./support/shared-api-server.js";

const NAMESPACE = "discovery-leader";
/** The promise: a killed leader is replaced within this long. */
const TAKEOVER_MS = 15_000;

interface Subset {
  name: string;
  labels: Record<string, string>;
}
interface StoredRouting extends KubernetesObject {
  spec: { host?: string; subsets?: Subset[]; hosts?: string[]; http?: { name: string; match?: unknown; route: { destination: { host: string; subset: string } }[] }[] };
}

// Two server replicas with routingObjects: istio, one Envoy whose ext_proc cluster has both
// (as the Service in front of them would), the real API server.
describe("two replicas: one writes the routing objects, both decide; the other takes over when the leader dies", () => {
  const apiServer = sharedApiServer();
  const cluster = new ClusterWorkloads(apiServer.kubeConfig(), NAMESPACE);
  const leases = apiServer.kubeConfig().makeApiClient(CoordinationV1Api);
  let rig: DiscoveryRig;

  const read = (kind: "DestinationRule" | "VirtualService", name: string) =>
    cluster.api.readObject<StoredRouting>({ apiVersion: "networking.istio.io/v1", kind, metadata: { name, namespace: NAMESPACE } });
  const roles = async () => {
    const states = await Promise.all(rig.replicas.filter((replica) => replica.pid > 0).map(async (replica) => ({ replica, status: await topologyOf(replica).catch(() => undefined) })));
    return states.filter((state) => state.status !== undefined);
  };
  const leader = async (): Promise<ExtProcProcess | undefined> => {
    const leading = (await roles()).filter((state) => state.status!.kubernetes?.leader === true);
    return leading.length === 1 ? leading[0]!.replica : undefined;
  };

  beforeAll(async () => {
    await cluster.createNamespace();
    await cluster.serviceWithVersions("pricing", ["v1", "pr-7"]);
    rig = await startDiscoveryRig({
      routable: { pricing: ["v1", "pr-7", "pr-8"] },
      serverConfig: { services: {}, kubernetes: { namespaces: [NAMESPACE], kubeconfig: apiServer.kubeconfigPath, routingObjects: "istio" } },
      replicas: 2,
    });
    for (const replica of rig.replicas) await waitUntilReady(replica);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("elects one writer on a Lease; both replicas serve decisions", async () => {
    const writer = await waitFor(leader, { what: "one leader", timeoutMs: 20_000 });
    const lease = await leases.readNamespacedLease({ name: "detour-ext-proc", namespace: NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe((await topologyOf(writer)).kubernetes!.identity);
    expect(lease.metadata?.labels?.["app.kubernetes.io/part-of"]).toBe("detour");
    for (const replica of rig.replicas) expect(metricValue(await replica.metrics(), "detour_ext_proc_kubernetes_leader")).toBe(replica === writer ? 1 : 0);
    // Envoy spreads streams over both replicas; every request is decided the same way.
    for (let index = 0; index < 20; index++) expect(await rig.routedVersion("pricing", "pricing=pr-7")).toBe("pr-7");
    const decided = await Promise.all(rig.replicas.map(async (replica) => metricValue(await replica.metrics(), "detour_ext_proc_requests_total")));
    expect(decided.every((count) => count > 0), `requests per replica: ${decided.join(", ")}`).toBe(true);
  });

  it("keeps the service's DestinationRule and VirtualService in step with server-side apply, field manager detour", async () => {
    const rule = await waitFor(async () => {
      const stored = await read("DestinationRule", "detour-pricing");
      return stored.spec.subsets?.length === 2 ? stored : undefined;
    }, { what: "the DestinationRule with v1 and pr-7" });
    expect(rule.metadata?.labels).toMatchObject({ "app.kubernetes.io/part-of": "detour", "app.kubernetes.io/component": "routing" });
    expect(rule.spec).toEqual({
      host: `pricing.${NAMESPACE}.svc.cluster.local`,
      subsets: [
        { name: "pr-7", labels: { version: "pr-7" } },
        { name: "v1", labels: { version: "v1" } },
      ],
    });
    expect(rule.metadata?.managedFields?.map((entry) => `${entry.manager}/${entry.operation}`)).toEqual(["detour/Apply"]);
    const routes = await read("VirtualService", "detour-pricing");
    expect(routes.spec.http?.map((route) => [route.name, route.route[0]!.destination.subset])).toEqual([
      ["detour-pr-7", "pr-7"],
      ["detour-v1", "v1"],
      ["detour-baseline", "v1"],
    ]);

    const pr8 = await cluster.deployVersion("pricing", "pr-8");
    await waitFor(async () => (await read("VirtualService", "detour-pricing")).spec.http?.some((route) => route.name === "detour-pr-8"), { what: "pr-8's route" });
    expect((await read("DestinationRule", "detour-pricing")).spec.subsets?.map((subset) => subset.name)).toEqual(["pr-7", "pr-8", "v1"]);
    await cluster.deleteVersion(pr8);
    await waitFor(async () => (await read("DestinationRule", "detour-pricing")).spec.subsets?.length === 2, { what: "pr-8's subset to go" });
    expect((await read("VirtualService", "detour-pricing")).spec.http?.map((route) => route.name)).toEqual(["detour-pr-7", "detour-v1", "detour-baseline"]);

    // Only the leader wrote.
    const writer = (await leader())!;
    for (const replica of rig.replicas) {
      const applied = metricValue(await replica.metrics(), "detour_ext_proc_kubernetes_writes_total", { result: "applied" });
      if (replica === writer) expect(applied).toBeGreaterThan(0);
      else expect(applied).toBe(0);
    }
  });

  it("never touches a routing object it did not create", async () => {
    const foreign = {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "detour-checkout", namespace: NAMESPACE, labels: { team: "checkout" } },
      spec: { hosts: ["checkout"], http: [{ route: [{ destination: { host: "checkout" } }] }] },
    };
    await cluster.api.apply(foreign, { fieldManager: TEAM_FIELD_MANAGER });
    await cluster.serviceWithVersions("checkout", ["v1"]);
    const writer = (await leader())!;
    await waitFor(async () => metricValue(await writer.metrics(), "detour_ext_proc_kubernetes_writes_total", { kind: "VirtualService", result: "refused" }) > 0, { what: "the refusal to be counted" });
    const stored = await read("VirtualService", "detour-checkout");
    expect(stored.spec).toEqual(foreign.spec);
    expect(stored.metadata?.managedFields?.map((entry) => entry.manager)).toEqual([TEAM_FIELD_MANAGER]);
    expect(writer.logs).toContainEqual(expect.objectContaining({ kind: "VirtualService", object: `${NAMESPACE}/detour-checkout`, msg: expect.stringContaining("not detour's object") }));
    await expect(read("DestinationRule", "detour-checkout")).rejects.toThrow();
  });

  it("replaces a killed leader within 15 s while every request keeps its route", async () => {
    const writer = (await leader())!;
    const load = startRouteLoad(rig.envoy.listenerPort("outbound:frontend/v1"), [
      { host: `pricing.${NAMESPACE}.svc.cluster.local`, headers: { "x-detour": "pricing=pr-7" }, expect: "pr-7" },
      { host: `pricing.${NAMESPACE}.svc.cluster.local`, headers: {}, expect: "v1" },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const killedAt = performance.now();
    await writer.kill();
    const successor = await waitFor(leader, { what: "a new leader", timeoutMs: TAKEOVER_MS + 5_000, intervalMs: 100 });
    const takeover = performance.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const result = await load.stop();
    console.log(`leader SIGKILLed: the other replica led after ${takeover.toFixed(0)} ms; ${result.sent} requests meanwhile, ${result.failed} failed, ${result.wrong} wrong routes`);
    expect(successor).not.toBe(writer);
    expect(takeover).toBeLessThan(TAKEOVER_MS);
    expect(result.sent).toBeGreaterThan(100);
    expect(result, result.samples.join("\n")).toMatchObject({ failed: 0, wrong: 0 });

    // The new leader writes: a new version gets its subset and route.
    await cluster.deployVersion("pricing", "pr-8");
    await waitFor(async () => (await read("DestinationRule", "detour-pricing")).spec.subsets?.some((subset) => subset.name === "pr-8"), { what: "pr-8's subset from the new leader" });
    expect(metricValue(await successor.metrics(), "detour_ext_proc_kubernetes_writes_total", { kind: "DestinationRule", result: "applied" })).toBeGreaterThan(0);
    const lease = await leases.readNamespacedLease({ name: "detour-ext-proc", namespace: NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe((await topologyOf(successor)).kubernetes!.identity);
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  it("hands the Lease over at once when the leader stops gracefully", async () => {
    const replacement = await rig.startReplica();
    await waitUntilReady(replacement);
    const writer = (await leader())!;
    const stoppedAt = performance.now();
    writer.signal("SIGTERM");
    await writer.exited;
    const successor = await waitFor(leader, { what: "the lease handed over", timeoutMs: 10_000, intervalMs: 100 });
    console.log(`leader stopped with SIGTERM: the other replica led after ${(performance.now() - stoppedAt).toFixed(0)} ms`);
    expect(successor).toBe(replacement);
    expect(performance.now() - stoppedAt).toBeLessThan(5_000);
  });
});
