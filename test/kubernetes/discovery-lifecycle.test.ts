import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AppsV1Api, CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { waitFor } from "../support/wait-for.js";
import { ClusterWorkloads } from "./support/cluster-workloads.js";
import { millisUntil, startDiscoveryRig, topologyOf, waitUntilReady, type DiscoveryRig } from "./support/discovery-rig.js";
import { sharedApiServer } from "./support/shared-api-server.js";

const NAMESPACE = "discovery-lifecycle";
const CLI_BIN = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));

/** Runs the built `detour` CLI to completion. */
function detour(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `2026-05-01T12:00:05Z`: a whole second, as people write expiry times. */
function wholeSecond(millis: number): string {
  return new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z");
}

describe("sandbox lifecycle: expiry, its Event and metric, detour sandbox list/expire", () => {
  const apiServer = sharedApiServer();
  const cluster = new ClusterWorkloads(apiServer.kubeConfig(), NAMESPACE);
  const events = apiServer.kubeConfig().makeApiClient(EventsV1Api);
  const apps = apiServer.kubeConfig().makeApiClient(AppsV1Api);
  const core = apiServer.kubeConfig().makeApiClient(CoreV1Api);
  let rig: DiscoveryRig;
  let server: string;

  const expiryEventsOf = async (deployment: string) =>
    (await events.listNamespacedEvent({ namespace: NAMESPACE })).items.filter((event) => event.reason === "VersionExpired" && event.regarding?.name === deployment && event.regarding.kind === "Deployment");

  beforeAll(async () => {
    await cluster.createNamespace();
    await cluster.serviceWithVersions("pricing", ["v1"]);
    rig = await startDiscoveryRig({
      routable: { pricing: ["v1", "pr-exp", "pr-ttl", "pr-11"] },
      serverConfig: { services: {}, kubernetes: { namespaces: [NAMESPACE], kubeconfig: apiServer.kubeconfigPath } },
    });
    await waitUntilReady(rig.replicas[0]!);
    server = `http://127.0.0.1:${rig.replicas[0]!.metricsPort}`;
    await waitFor(async () => (await topologyOf(rig.replicas[0]!)).kubernetes?.leader === true, { what: "the only replica to lead" });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it("honours detour.dev/expires-at to the second: routed until then, the miss policy within a second after", async () => {
    const expiresAt = Math.ceil((Date.now() + 4_000) / 1000) * 1000;
    const deployed = await cluster.deployVersion("pricing", "pr-exp", { annotations: { "detour.dev/expires-at": wholeSecond(expiresAt) } });
    const answers: { sent: number; received: number; version: string | undefined }[] = [];
    while (Date.now() < expiresAt + 2_000) {
      const sent = Date.now();
      const version = await rig.routedVersion("pricing", "pricing=pr-exp");
      answers.push({ sent, received: Date.now(), version });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const firstRouted = answers.findIndex((answer) => answer.version === "pr-exp");
    expect(firstRouted, "pr-exp became routable").toBeGreaterThanOrEqual(0);
    const afterRoutable = answers.slice(firstRouted);
    const early = afterRoutable.filter((answer) => answer.version !== "pr-exp" && answer.received < expiresAt);
    expect(early, "no request was refused pr-exp before its expiry").toEqual([]);
    const lastRouted = afterRoutable.filter((answer) => answer.version === "pr-exp").at(-1)!;
    const firstFallback = afterRoutable.find((answer) => answer.version === "v1")!;
    console.log(`expires-at ${wholeSecond(expiresAt)}: last routed request sent ${lastRouted.sent - expiresAt} ms from it, first fallback answered ${firstFallback.received - expiresAt} ms after`);
    expect(lastRouted.sent).toBeGreaterThan(expiresAt - 200);
    expect(firstFallback.received - expiresAt).toBeLessThan(1_000);
    expect(afterRoutable.filter((answer) => answer.received > expiresAt + 1_000).every((answer) => answer.version === "v1")).toBe(true);

    // Reported: an Event on the Deployment, a metric, a log line; and nothing deleted.
    const [event] = await waitFor(async () => {
      const found = await expiryEventsOf(deployed.deployment);
      return found.length === 0 ? undefined : found;
    }, { what: "the VersionExpired Event" });
    expect(event).toMatchObject({ type: "Normal", action: "Expire", reportingController: "detour.dev/ext-proc", regarding: { apiVersion: "apps/v1", namespace: NAMESPACE } });
    expect(event!.note).toContain(`pricing/pr-exp expired at ${new Date(expiresAt).toISOString()}: detour no longer routes requests to it`);
    const metrics = await rig.replicas[0]!.metrics();
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_expirations_total", { service: "pricing" })).toBe(1);
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_versions", { state: "expired" })).toBe(1);
    expect(rig.replicas[0]!.logs).toContainEqual(expect.objectContaining({ msg: "version expired: no longer routable; the Deployment stays", deployment: "pricing-pr-exp", service: "pricing", version: "pr-exp" }));
    expect((await apps.readNamespacedDeployment({ name: deployed.deployment, namespace: NAMESPACE })).metadata?.name).toBe(deployed.deployment);
    expect((await core.readNamespacedPod({ name: deployed.pods[0]!, namespace: NAMESPACE })).status?.conditions?.find((condition) => condition.type === "Ready")?.status).toBe("True");

    // detour sandbox list shows it expired, with the requests that named it and those routed to it.
    const list = await detour(["sandbox", "list", "--server", server]);
    expect(list.code, list.stderr).toBe(0);
    const line = list.stdout.split("\n").find((text) => text.includes("pr-exp"))!;
    const routedCount = afterRoutable.filter((answer) => answer.version === "pr-exp").length;
    expect(line).toMatch(new RegExp(`^pricing\\s+pr-exp\\s+expired\\s+0\\s+${new Date(expiresAt).toISOString().replace(/\./g, "\\.")} \\(passed\\)\\s+\\d+\\s+${routedCount}$`));
  });

  it("counts detour.dev/ttl from the Deployment's creation", async () => {
    const deployed = await cluster.deployVersion("pricing", "pr-ttl", { annotations: { "detour.dev/ttl": "4s" } });
    const created = (await apps.readNamespacedDeployment({ name: deployed.deployment, namespace: NAMESPACE })).metadata!.creationTimestamp!;
    const expiresAt = new Date(created).getTime() + 4_000;
    await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-ttl")) === "pr-ttl", performance.now(), { what: "pr-ttl routable" });
    await waitFor(async () => (await rig.routedVersion("pricing", "pricing=pr-ttl")) === "v1", { what: "pr-ttl to expire", timeoutMs: 10_000, intervalMs: 20 });
    const fellBack = Date.now();
    expect(fellBack).toBeGreaterThanOrEqual(expiresAt);
    expect(fellBack - expiresAt).toBeLessThan(1_000);
    const [version] = (await topologyOf(rig.replicas[0]!)).services.find((service) => service.name === "pricing")!.versions.filter((entry) => entry.name === "pr-ttl");
    expect(version).toMatchObject({ routable: false, expired: true, expiresAt: new Date(expiresAt).toISOString() });
  });

  it("detour sandbox expire ends a version now, through the Deployment's annotation", async () => {
    const deployed = await cluster.deployVersion("pricing", "pr-11");
    await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-11")) === "pr-11", performance.now(), { what: "pr-11 routable" });
    const listed = await detour(["sandbox", "list", "--server", server]);
    expect(listed.stdout).toMatch(/^pricing\s+pr-11\s+live\s+1\s+-\s+\d+\s+\d+$/m);

    const started = performance.now();
    const expired = await detour(["sandbox", "expire", "pricing/pr-11", "--server", server, "--kubeconfig", apiServer.kubeconfigPath]);
    expect(expired.code, expired.stderr).toBe(0);
    expect(expired.stdout).toMatch(new RegExp(`^pricing/pr-11: detour\\.dev/expires-at=\\S+ set on Deployment ${NAMESPACE}/pricing-pr-11; detour stops routing to it then`));
    const gone = await millisUntil(async () => (await rig.routedVersion("pricing", "pricing=pr-11")) === "v1", started, { what: "pr-11 to fall back" });
    console.log(`detour sandbox expire pricing/pr-11: command start -> miss policy ${gone.toFixed(0)} ms`);
    const annotations = (await apps.readNamespacedDeployment({ name: deployed.deployment, namespace: NAMESPACE })).metadata?.annotations ?? {};
    expect(annotations["detour.dev/expires-at"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    await waitFor(async () => (await expiryEventsOf(deployed.deployment)).length === 1, { what: "the Event of pr-11's expiry" });
  });

  it("says what is wrong when asked to expire something it cannot", async () => {
    const unknown = await detour(["sandbox", "expire", "pricing/pr-404", "--server", server]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/the server has no discovered version 'pr-404' of 'pricing' \(discovered: .*pr-11/);
    const usage = await detour(["sandbox", "expire", "pricing", "--server", server]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("'pricing' is not SERVICE/VERSION");
    const offline = await detour(["sandbox", "list", "--server", "http://127.0.0.1:9"]);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain("cannot reach http://127.0.0.1:9/status");
  });
});
