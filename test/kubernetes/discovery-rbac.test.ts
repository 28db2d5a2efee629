import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoordinationV1Api, CoreV1Api, EventsV1Api, type KubernetesObject } from "@kubernetes/client-node";
import { parseConfig } from "@detour/ext-proc";
import { kubernetesManifests } from "../../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions } from "../../packages/cli/src/kubernetes/kubernetes-options.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue } from "../support/prometheus-text.js";
import { waitFor } from "../support/wait-for.js";
import { ClusterWorkloads } from "./support/cluster-workloads.js";
import { startDiscoveryRig, waitUntilReady, type DiscoveryRig } from "./support/discovery-rig.js";
import { refusalOf } from "./support/kubernetes-error.js";
import { ServerSideApplyApi } from "./support/server-side-apply.js";
import { sharedApiServer } from "./support/shared-api-server.js";

const WATCHED = "discovery-rbac";
const SERVER_NAMESPACE = "discovery-rbac-system";
const OTHER = "discovery-rbac-other";
const SERVICE_ACCOUNT = "detour-ext-proc";

// The server runs as the ServiceAccount `detour kubernetes` renders, bound to exactly the RBAC it
// renders for a config with a kubernetes section, on the API server in RBAC mode: everything the
// server does works, and nothing else is allowed.
describe("the server with the rendered RBAC and nothing more", () => {
  const apiServer = sharedApiServer();
  const admin = ServerSideApplyApi.fromKubeConfig(apiServer.kubeConfig());
  const cluster = new ClusterWorkloads(apiServer.kubeConfig(), WATCHED);
  const kubernetes = { namespaces: [WATCHED], routingObjects: "istio" as const, leaderElection: { namespace: SERVER_NAMESPACE } };
  const topology = parseConfig({ services: {}, kubernetes });
  const rendered = kubernetesManifests(topology, kubernetesOptions({ namespace: SERVER_NAMESPACE }), "discovery-rbac.test.ts").objects;
  const rbac = rendered.filter((object) => ["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].includes(object.kind));
  let dir: string;
  let token: string;
  let rig: DiscoveryRig;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-rbac-"));
    for (const name of [WATCHED, SERVER_NAMESPACE, OTHER]) await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    for (const object of rbac) await admin.apply(object as KubernetesObject);
    await cluster.serviceWithVersions("pricing", ["v1", "pr-7"]);
    await cluster.deployVersion("pricing", "pr-old", { annotations: { "detour.dev/expires-at": "2020-01-01T00:00:00Z" } });
    token = await apiServer.serviceAccountToken(SERVER_NAMESPACE, SERVICE_ACCOUNT);
    const kubeconfig = join(dir, "service-account.kubeconfig");
    writeFileSync(kubeconfig, apiServer.kubeConfig({ token }).exportConfig(), { mode: 0o600 });
    rig = await startDiscoveryRig({ routable: { pricing: ["v1", "pr-7", "pr-old"] }, serverConfig: { services: {}, kubernetes: { ...kubernetes, kubeconfig } } });
    await waitUntilReady(rig.replicas[0]!);
  });
  afterAll(async () => {
    await rig?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders the ServiceAccount with its token, a Role per watched namespace and one for the Lease, no ClusterRole", () => {
    expect(rbac.map((object) => `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`)).toEqual([
      `ServiceAccount ${SERVER_NAMESPACE}/${SERVICE_ACCOUNT}`,
      `Role ${WATCHED}/detour-ext-proc-discovery`,
      `RoleBinding ${WATCHED}/detour-ext-proc-discovery`,
      `Role ${SERVER_NAMESPACE}/detour-ext-proc-leader-election`,
      `RoleBinding ${SERVER_NAMESPACE}/detour-ext-proc-leader-election`,
    ]);
    expect(rbac[0]).toMatchObject({ automountServiceAccountToken: true });
    const deployment = rendered.find((object) => object.kind === "Deployment") as unknown as { spec: { template: { spec: { automountServiceAccountToken: boolean; containers: { env: { name: string }[] }[] } } } };
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(true);
    expect(deployment.spec.template.spec.containers[0]!.env.map((entry) => entry.name)).toEqual(["POD_NAMESPACE", "POD_NAME"]);
  });

  it("does everything it needs: watches, routes, leads on its Lease, writes the routing objects and the expiry Event", async () => {
    expect(await rig.routedVersion("pricing", "pricing=pr-7")).toBe("pr-7");
    expect(await rig.routedVersion("pricing", "pricing=pr-old"), "expired").toBe("v1");
    const leases = apiServer.kubeConfig().makeApiClient(CoordinationV1Api);
    await waitFor(async () => (await leases.readNamespacedLease({ name: "detour-ext-proc", namespace: SERVER_NAMESPACE })).spec?.holderIdentity !== undefined, { what: "the Lease" });
    await waitFor(
      async () => {
        const rule = await admin.readObject<KubernetesObject & { spec: { subsets: { name: string }[] } }>({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "detour-pricing", namespace: WATCHED } });
        return rule.spec.subsets.map((subset) => subset.name).join(",") === "pr-7,v1";
      },
      { what: "the DestinationRule written by the ServiceAccount" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the server's warnings: ${JSON.stringify(rig.replicas[0]!.logs.filter((line) => line.level >= 40))}`);
    });
    await admin.readObject({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "detour-pricing", namespace: WATCHED } });
    const events = apiServer.kubeConfig().makeApiClient(EventsV1Api);
    await waitFor(async () => (await events.listNamespacedEvent({ namespace: WATCHED })).items.some((event) => event.reason === "VersionExpired"), { what: "the expiry Event" });
    const metrics = await rig.replicas[0]!.metrics();
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_watch_failures_total")).toBe(0);
    expect(metricValue(metrics, "detour_ext_proc_kubernetes_writes_total", { result: "failed" })).toBe(0);
  });

  it("is forbidden everything else", async () => {
    const kc = apiServer.kubeConfig({ token });
    const api = ServerSideApplyApi.fromKubeConfig(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const attempts: [string, () => Promise<unknown>][] = [
      ["annotate a Deployment", () => api.apply({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "pricing-pr-7", namespace: WATCHED, annotations: { x: "y" } } }, { fieldManager: "detour" })],
      ["delete a Pod", () => core.deleteNamespacedPod({ name: "pricing-pr-7-0", namespace: WATCHED })],
      ["read a Pod by name", () => core.readNamespacedPod({ name: "pricing-pr-7-0", namespace: WATCHED })],
      ["create a ConfigMap", () => core.createNamespacedConfigMap({ namespace: WATCHED, body: { metadata: { name: "x" } } })],
      ["list Secrets", () => core.listNamespacedSecret({ namespace: WATCHED })],
      ["delete a Deployment", () => apps.deleteNamespacedDeployment({ name: "pricing-v1", namespace: WATCHED })],
      ["list Pods of a namespace it does not watch", () => core.listNamespacedPod({ namespace: OTHER })],
      ["write a VirtualService in a namespace it does not watch", () => api.apply({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "detour-x", namespace: OTHER }, spec: { hosts: ["x"] } })],
      ["delete its own DestinationRule", () => api.delete({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "detour-pricing", namespace: WATCHED } })],
      ["take another Lease", () => api.apply({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "kube-scheduler", namespace: SERVER_NAMESPACE }, spec: { holderIdentity: "me" } })],
      ["list Pods cluster-wide", () => core.listPodForAllNamespaces()],
    ];
    for (const [what, attempt] of attempts) {
      const refusal = await refusalOf(attempt);
      expect(refusal.code, `${what}: ${refusal.message}`).toBe(403);
      expect(refusal.message).toContain(`system:serviceaccount:${SERVER_NAMESPACE}:${SERVICE_ACCOUNT}`);
    }
  });
});
