import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { ClusterWorkloads } from "./support/cluster-workloads.js";
import { millisUntil, startDiscoveryRig, topologyOf, waitUntilReady, type DiscoveryRig } from "./support/discovery-rig.js";
import { sharedApiServer } from "./support/shared-api-server.js";

const NAMESPACE = "discovery-routing";
const SANDBOXES = Array.from({ length: 50 }, (_, index) => `sandbox-${String(index).padStart(2, "0")}`);
/** A new version is routable, and a deleted one gone, within this long (the behaviour promised). */
const WITHIN_MS = 1_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// The server watches a real API server; requests go through a real Envoy sidecar and the real
// server process. Pods are made Ready by writing their status, as a kubelet would.
describe("versions discovered from the cluster, routed through real Envoy", () => {
  const apiServer = sharedApiServer();
  const cluster = new ClusterWorkloads(apiServer.kubeConfig(), NAMESPACE);
  let rig: DiscoveryRig;

  beforeAll(async () => {
    await cluster.createNamespace();
    await cluster.serviceWithVersions("pricing", ["v1"]);
    await cluster.serviceWithVersions("checkout", ["v1"], { "detour.dev/miss": "reject" });
    rig = await startDiscoveryRig({
      routable: { pricing: ["v1", "pr-7", ...SANDBOXES], checkout: ["v1", "pr-9"] },
      serverConfig: { services: {}, kubernetes: { namespaces: [NAMESPACE], kubeconfig: apiServer.kubeconfigPath } },
    });
    await waitUntilReady(rig.replicas[0]!);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("routes pricing=pr-7 to its pods within a second of the first Ready pod, and applies the miss policy within a second of deleting it", async () => {
    expect(await rig.routedVersion("pricing", "pricing=pr-7"), "before it is deployed the baseline serves").toBe("v1");

    const deployed = await cluster.deployVersion("pricing", "pr-7", { ready: false });
    expect(await rig.routedVersion("pricing", "pricing=pr-7"), "a pod that is not Ready routes nothing").toBe("v1");
    const readyAt = performance.now();
    await cluster.setReady(deployed.pods[0]!, true);
    const routable = await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-7")) === "pr-7", readyAt, { what: "pricing=pr-7 to reach pr-7" });
    const response = await rig.send("pricing", { "x-detour": "pricing=pr-7" });
    expect(response.upstream?.version).toBe("pr-7");
    expect(response.upstream?.headers["x-detour-route"], "x-detour-route never leaves the sidecar").toBeUndefined();

    const deletedAt = performance.now();
    await cluster.deleteVersion(deployed);
    const gone = await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-7")) === "v1", deletedAt, { what: "pricing=pr-7 to fall back to v1" });
    console.log(`pricing pr-7: Ready -> routable ${routable.toFixed(0)} ms; deleted -> miss policy ${gone.toFixed(0)} ms`);
    expect(routable).toBeLessThan(WITHIN_MS);
    expect(gone).toBeLessThan(WITHIN_MS);
  });

  it("answers a miss with the service's policy from its Service annotation (reject: 503 naming the versions)", async () => {
    const deployed = await cluster.deployVersion("checkout", "pr-9");
    await millisUntil(async () => (await rig.routedVersion("checkout", "checkout=pr-9")) === "pr-9", performance.now(), { what: "checkout pr-9" });
    await cluster.deleteVersion(deployed);
    await millisUntil(async () => (await rig.send("checkout", { "x-detour": "checkout=pr-9" })).status === 503, performance.now(), { what: "checkout=pr-9 to be rejected" });
    const rejected = await rig.send("checkout", { "x-detour": "checkout=pr-9" });
    expect(rejected.text).toContain("detour: service 'checkout' has no version 'pr-9' (known versions: v1)");
  });

  it("keeps the version while one Ready pod is left, and drops it with the last", async () => {
    const deployed = await cluster.deployVersion("pricing", "pr-7", { pods: 2 });
    await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-7")) === "pr-7", performance.now(), { what: "pr-7 with two pods" });
    await cluster.setReady(deployed.pods[0]!, false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await rig.routedVersion("pricing", "pricing=pr-7")).toBe("pr-7");
    await cluster.setReady(deployed.pods[1]!, false);
    await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-7")) === "v1", performance.now(), { what: "pr-7 gone with its last Ready pod" });
    await cluster.deleteVersion(deployed);
  });

  it("makes 50 versions routable one after another: Ready -> routable latency", async () => {
    // Measured from just before the status write is sent, so the API server's own write (etcd)
    // is included; "after the write" subtracts it: the watch, the rebuild and the first request.
    const routable: number[] = [];
    const routableAfterWrite: number[] = [];
    const gone: number[] = [];
    const goneAfterWrite: number[] = [];
    for (const version of SANDBOXES) {
      const deployed = await cluster.deployVersion("pricing", version, { ready: false });
      const readyAt = performance.now();
      await cluster.setReady(deployed.pods[0]!, true);
      const written = performance.now() - readyAt;
      routable.push(await millisUntil(async () => (await rig.routedVersion("pricing", `pricing=${version}`)) === version, readyAt, { what: `${version} routable` }));
      routableAfterWrite.push(Math.max(0, routable.at(-1)! - written));
      const deletedAt = performance.now();
      await cluster.deletePod(deployed.pods[0]!);
      const deleted = performance.now() - deletedAt;
      gone.push(await millisUntil(async () => (await rig.routedVersion("pricing", `pricing=${version}`)) === "v1", deletedAt, { what: `${version} gone` }));
      goneAfterWrite.push(Math.max(0, gone.at(-1)! - deleted));
      await cluster.deleteVersion({ ...deployed, pods: [] });
    }
    const summary = (samples: readonly number[]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return `p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`;
    };
    console.log(
      `over ${SANDBOXES.length} versions: Ready written -> routable ${summary(routable)} (after the API server's write: ${summary(routableAfterWrite)}); ` +
        `pod deleted -> miss policy ${summary(gone)} (after the write: ${summary(goneAfterWrite)})`,
    );
    expect(percentile([...routable].sort((a, b) => a - b), 99)).toBeLessThan(WITHIN_MS);
    expect(percentile([...gone].sort((a, b) => a - b), 99)).toBeLessThan(WITHIN_MS);
  });

  it("takes a workload's injection from its pod template", async () => {
    // frontend/v1 is the caller; its pod template injects pricing=pr-7 into every outbound call.
    await cluster.service("frontend", { "detour.dev/baseline": "v1" });
    const pr7 = await cluster.deployVersion("pricing", "pr-7");
    const frontend = await cluster.deployVersion("frontend", "v1", { templateAnnotations: { "detour.dev/inject": "pricing=pr-7" } });
    // The sidecar must send every request to ext_proc for an injecting workload; a carrier makes it do so here.
    await millisUntil(async () => (await rig.routedVersion("pricing", "catalog=v2")) === "pr-7", performance.now(), { what: "the injected pricing=pr-7" });
    expect(await rig.routedVersion("pricing", "pricing=v1"), "the request's own entry wins over the injection").toBe("v1");
    await cluster.deleteVersion(frontend);
    await cluster.deleteVersion(pr7);
  });

  it("shows what it discovered on GET /status, with requested and applied counts", async () => {
    const topology = await topologyOf(rig.replicas[0]!);
    expect(topology).toMatchObject({ source: "kubernetes", kubernetes: { synced: true, stale: false }, problemCount: 0 });
    const pricing = topology.services.find((service) => service.name === "pricing")!;
    expect(pricing).toMatchObject({ origin: "discovered", namespace: NAMESPACE, baseline: "v1", miss: "fallback" });
    const v1 = pricing.versions.find((version) => version.name === "v1")!;
    expect(v1).toMatchObject({ origin: "discovered", routable: true, readyPods: 1 });
    const metrics = await rig.replicas[0]!.metrics();
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_versions", { state: "routable" })).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_topology_stale")).toBe(0);
  });

  it("reports a conflict instead of guessing: a service without a baseline is not routed", async () => {
    const search = await cluster.deployVersion("search", "v1");
    const problem = await millisUntil(async () => (await topologyOf(rig.replicas[0]!)).problems.some((entry) => entry.code === "no-baseline"), performance.now(), { what: "the no-baseline problem", intervalMs: 50 });
    expect(problem).toBeLessThan(5_000);
    const topology = await topologyOf(rig.replicas[0]!);
    expect(topology.problems).toContainEqual(expect.objectContaining({ code: "no-baseline", message: expect.stringContaining("annotate its Service with detour.dev/baseline") }));
    expect(topology.services.map((service) => service.name)).not.toContain("search");
    const readyz = await (await fetch(`http://127.0.0.1:${rig.replicas[0]!.metricsPort}/readyz`)).text();
    expect(readyz).toMatch(/^ready\n1 topology problem\(s\): see GET \/status/);
    expect(metricValue(await rig.replicas[0]!.metrics(), "detour_ext_proc_kubernetes_topology_problems", { code: "no-baseline" })).toBe(1);
    await cluster.deleteVersion(search);
  });
});
