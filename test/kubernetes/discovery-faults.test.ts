import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { waitFor } from "../support/wait-for.js";
import { startApiServerRig, type ApiServerRig } from "./support/api-server-rig.js";
import { ClusterWorkloads } from "./support/cluster-workloads.js";
import { millisUntil, startDiscoveryRig, topologyOf, waitUntilReady, type DiscoveryRig } from "./support/discovery-rig.js";
import { startRouteLoad } from "./support/route-load.js";

const NAMESPACE = "discovery-faults";
/** How long the API server stays away. */
const OUTAGE_MS = 30_000;

// Its own API server (this file stops and starts it), no CRDs: nothing here writes Istio objects.
describe("the API server goes away for 30 s under load", () => {
  let apiServer: ApiServerRig;
  let cluster: ClusterWorkloads;
  let rig: DiscoveryRig;

  beforeAll(async () => {
    apiServer = await startApiServerRig({ crds: false });
    cluster = new ClusterWorkloads(apiServer.kubeConfig(), NAMESPACE);
    await cluster.createNamespace();
    await cluster.serviceWithVersions("pricing", ["v1", "pr-7"]);
    rig = await startDiscoveryRig({
      routable: { pricing: ["v1", "pr-7", "pr-8"] },
      serverConfig: { services: {}, kubernetes: { namespaces: [NAMESPACE], kubeconfig: apiServer.kubeconfigPath } },
    });
    await waitUntilReady(rig.replicas[0]!);
    await waitFor(async () => (await rig.routedVersion("pricing", "pricing=pr-7")) === "pr-7", { what: "pr-7 routable" });
  });
  afterAll(async () => {
    await rig?.close();
    await apiServer?.close();
  });

  it("keeps deciding on the last topology (0 failed, 0 wrong routes), shows it stale, stays ready, and resyncs after the restart", async () => {
    const server = rig.replicas[0]!;
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${server.metricsPort}/readyz`);
      return { status: response.status, text: await response.text() };
    };
    const load = startRouteLoad(rig.envoy.listenerPort("outbound:frontend/v1"), [
      { host: `pricing.${NAMESPACE}.svc.cluster.local`, headers: { "x-detour": "pricing=pr-7" }, expect: "pr-7" },
      { host: `pricing.${NAMESPACE}.svc.cluster.local`, headers: {}, expect: "v1" },
      { host: `pricing.${NAMESPACE}.svc.cluster.local`, headers: { "x-detour": "pricing=pr-8" }, expect: "v1" },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Measured from the moment kube-apiserver has exited (its graceful shutdown, during which it
    // still serves the open watches, comes before).
    await apiServer.stopApiServer();
    const stoppedAt = performance.now();
    const staleAfter = await millisUntil(async () => metricValue(await server.metrics(), "detour_ext_proc_kubernetes_topology_stale") === 1, stoppedAt, { what: "the stale metric", intervalMs: 100 });
    const during = await readyz();
    expect(during.status, "a stale topology keeps the server ready").toBe(200);
    expect(during.text).toMatch(/^ready\nkubernetes topology stale since \S+ \(a watch of the API server is down\): decisions use the last topology seen/);
    expect((await topologyOf(server)).kubernetes).toMatchObject({ stale: true, synced: true });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (performance.now() - stoppedAt))));
    const staleSeconds = metricValue(await server.metrics(), "detour_ext_proc_kubernetes_topology_stale_seconds");
    const duringOutage = load.result();

    await apiServer.startApiServer();
    const restartedAt = performance.now();
    const freshAfter = await millisUntil(async () => metricValue(await server.metrics(), "detour_ext_proc_kubernetes_topology_stale") === 0, restartedAt, { what: "the watches to resume", timeoutMs: 30_000, intervalMs: 100 });
    const result = await load.stop();
    // A change made after the restart is seen: a new version becomes routable.
    const deployedAt = performance.now();
    await cluster.deployVersion("pricing", "pr-8");
    const seen = await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-8")) === "pr-8", deployedAt, { what: "pr-8 after the restart" });
    console.log(
      `API server stopped ${OUTAGE_MS / 1000} s: stale metric after ${staleAfter.toFixed(0)} ms (stale_seconds ${staleSeconds.toFixed(1)} at the end), ` +
        `${duringOutage.sent} requests during the outage, ${result.sent} in all, ${result.failed} failed, ${result.wrong} wrong routes; ` +
        `watches resumed ${freshAfter.toFixed(0)} ms after kube-apiserver was ready again; a version deployed then was routable after ${seen.toFixed(0)} ms`,
    );
    expect(staleSeconds).toBeGreaterThan(20);
    expect(duringOutage.sent).toBeGreaterThan(300);
    expect(result, result.samples.join("\n")).toMatchObject({ failed: 0, wrong: 0 });
    expect((await readyz()).text).toBe("ready\n");
    expect(server.logs).toContainEqual(expect.objectContaining({ msg: "kubernetes watches resumed: topology current again" }));
  });
});
