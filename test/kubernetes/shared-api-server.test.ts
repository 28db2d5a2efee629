import { readFileSync } from "node:fs";
import { ApisApi, CoreV1Api, VersionApi, type KubernetesObject } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { refusalOf } from "./support/kubernetes-error.js";
import { DETOUR_FIELD_MANAGER, ServerSideApplyApi } from "./support/server-side-apply.js";
import { sharedApiServer } from "./support/shared-api-server.js";

interface Rejection {
  name: string;
  code: number;
  reason?: string;
  contains: string[];
  object: KubernetesObject;
}

const objects = parseAllDocuments(readFileSync(new URL("./rig-objects.yaml", import.meta.url), "utf8")).map((doc) => doc.toJS() as KubernetesObject);
const rejections = parse(readFileSync(new URL("./rig-rejections.yaml", import.meta.url), "utf8")) as Rejection[];

/** The parts of an applied object the server must store as written (it may add defaults). */
function writtenFields(object: KubernetesObject): Record<string, unknown> {
  const { apiVersion, kind, metadata, ...rest } = object as KubernetesObject & Record<string, unknown>;
  return { apiVersion, kind, metadata: { name: metadata?.name, ...(metadata?.labels ? { labels: metadata.labels } : {}) }, ...rest };
}

describe("the shared API server", () => {
  const server = sharedApiServer();
  const api = ServerSideApplyApi.fromKubeConfig(server.kubeConfig());

  it("is Kubernetes 1.35 with Istio's and Gateway API's kinds served", async () => {
    const version = await server.kubeConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.35\./);
    const groups = await server.kubeConfig().makeApiClient(ApisApi).getAPIVersions();
    const served = new Map(groups.groups.map((group) => [group.name, group.versions.map((v) => v.version)]));
    expect(served.get("networking.istio.io")).toEqual(expect.arrayContaining(["v1", "v1alpha3"]));
    expect(served.get("gateway.networking.k8s.io")).toContain("v1");
  });

  it("applies every kind detour renders with field manager detour, and reads it back as written", async () => {
    for (const object of objects) {
      const applied = await api.apply(object);
      const stored = await api.readObject(object);
      expect(stored, `${object.kind} ${object.metadata?.name}`).toMatchObject(writtenFields(object));
      const managers = stored.metadata?.managedFields?.map((field) => `${field.manager}/${field.operation}`);
      expect(managers).toContain(`${DETOUR_FIELD_MANAGER}/Apply`);
      // Applying the same object again changes nothing: what keeping objects in step relies on.
      const again = await api.apply(object);
      expect(again.metadata?.resourceVersion).toBe(applied.metadata?.resourceVersion);
    }
  });

  describe("refuses a broken object with a reason a person can act on", () => {
    beforeAll(() => api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "rig-reject" } }));

    it.each(rejections)("$name", async ({ object, code, reason, contains }) => {
      const refusal = await refusalOf(() => api.apply(object));
      expect(refusal.code, refusal.message).toBe(code);
      if (reason !== undefined) expect(refusal.reason, refusal.message).toBe(reason);
      for (const words of contains) expect(refusal.message).toContain(words);
      // Nothing of a refused object is stored.
      expect((await refusalOf(() => api.readObject(object))).code).toBe(404);
    });
  });

  it("issues ServiceAccount tokens that carry only what RBAC binds", async () => {
    await api.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "rig-shared-sa" } });
    await api.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "unbound", namespace: "rig-shared-sa" } });
    const token = await server.serviceAccountToken("rig-shared-sa", "unbound");
    const refusal = await refusalOf(() => server.kubeConfig({ token }).makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "rig-shared-sa" }));
    expect(refusal.code).toBe(403);
    expect(refusal.message).toContain('User "system:serviceaccount:rig-shared-sa:unbound" cannot list resource "pods"');
  });
});
