import { CoreV1Api, type KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiServerRig, type ApiServerRig } from "./support/api-server-rig.js";
import { refusalOf } from "./support/kubernetes-error.js";
import { ServerSideApplyApi } from "./support/server-side-apply.js";

const namespace = (name: string): KubernetesObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

describe("the API server rig in RBAC mode", () => {
  let rig: ApiServerRig;
  let api: ServerSideApplyApi;

  beforeAll(async () => {
    // Its own API server: the token users are fixed when it starts. No CRDs needed here.
    rig = await startApiServerRig({ crds: false, users: [{ name: "nobody" }, { name: "config-reader", groups: ["detour-test:readers"] }] });
    api = ServerSideApplyApi.fromKubeConfig(rig.kubeConfig());
    const t = rig.timings;
    console.log(
      `api-server-rig without CRDs: etcd ready in ${t.etcdReadyMs.toFixed(0)} ms, kube-apiserver ready in ${t.apiServerReadyMs.toFixed(0)} ms (${t.totalMs.toFixed(0)} ms in all)`,
    );
  });
  afterAll(() => rig?.close());

  it("denies a token without rights and grants exactly what a Role binds", async () => {
    await api.apply(namespace("rig-rbac"));
    await api.apply(namespace("rig-other"));
    const denied = await refusalOf(() => rig.kubeConfig("nobody").makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: "rig-rbac" }));
    expect(denied.code).toBe(403);
    expect(denied.message).toContain('User "nobody" cannot list resource "configmaps" in API group "" in the namespace "rig-rbac"');

    await api.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "config-reader", namespace: "rig-rbac" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
    } as KubernetesObject);
    await api.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "config-reader", namespace: "rig-rbac" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "config-reader" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "detour-test:readers" }],
    } as KubernetesObject);
    const reader = rig.kubeConfig("config-reader").makeApiClient(CoreV1Api);
    expect((await reader.listNamespacedConfigMap({ namespace: "rig-rbac" })).items).toBeInstanceOf(Array);
    const write = await refusalOf(() => reader.createNamespacedConfigMap({ namespace: "rig-rbac", body: { metadata: { name: "sneaky" } } }));
    expect(write.code).toBe(403);
    expect(write.message).toContain('User "config-reader" cannot create resource "configmaps"');
    const elsewhere = await refusalOf(() => reader.listNamespacedConfigMap({ namespace: "rig-other" }));
    expect(elsewhere.code).toBe(403);
  });

  it("issues ServiceAccount tokens that RBAC binds like a pod's", async () => {
    await api.apply(namespace("rig-sa"));
    await api.apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "detour", namespace: "rig-sa" } });
    // A Role of its own: the built-in view/edit/admin ClusterRoles are aggregated by the
    // controller manager, which the rig does not run, so they grant nothing here.
    await api.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "pod-reader", namespace: "rig-sa" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
    } as KubernetesObject);
    await api.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "detour-pod-reader", namespace: "rig-sa" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
      subjects: [{ kind: "ServiceAccount", name: "detour", namespace: "rig-sa" }],
    } as KubernetesObject);
    const token = await rig.serviceAccountToken("rig-sa", "detour");
    const asPod = rig.kubeConfig({ token }).makeApiClient(CoreV1Api);
    expect((await asPod.listNamespacedPod({ namespace: "rig-sa" })).items).toEqual([]);
    const secrets = await refusalOf(() => asPod.listNamespacedSecret({ namespace: "rig-sa" }));
    expect(secrets.code).toBe(403);
    expect(secrets.message).toContain('User "system:serviceaccount:rig-sa:detour" cannot list resource "secrets"');
  });

  it("restarts kube-apiserver on the same URL with etcd's data kept", async () => {
    await api.apply(namespace("rig-restart"));
    await api.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "survivor", namespace: "rig-restart" }, data: { kept: "yes" } } as KubernetesObject);
    const core = rig.kubeConfig().makeApiClient(CoreV1Api);
    await rig.stopApiServer();
    expect(rig.apiServerRunning()).toBe(false);
    expect((await refusalOf(() => core.readNamespacedConfigMap({ name: "survivor", namespace: "rig-restart" }))).code).toBe(0);
    await rig.startApiServer();
    // The same client (URL, CA, token) works again: the serving certificate is reused.
    expect((await core.readNamespacedConfigMap({ name: "survivor", namespace: "rig-restart" })).data).toEqual({ kept: "yes" });
    console.log(`api-server-rig: kube-apiserver ready again ${rig.timings.apiServerReadyMs.toFixed(0)} ms after a restart`);
  });
});

describe("the API server rig in AlwaysAllow mode", () => {
  let rig: ApiServerRig;
  beforeAll(async () => {
    rig = await startApiServerRig({ authorization: "AlwaysAllow", crds: false, users: [{ name: "anyone" }] });
  });
  afterAll(() => rig?.close());

  it("lets any token user do anything", async () => {
    const core = rig.kubeConfig("anyone").makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "open" } } });
    const created = await core.createNamespacedConfigMap({ namespace: "open", body: { metadata: { name: "c" }, data: { a: "b" } } });
    expect(created.data).toEqual({ a: "b" });
  });

  it("still authenticates: an unknown token is Unauthorized", async () => {
    const stranger = rig.kubeConfig({ token: "not-a-token" }).makeApiClient(CoreV1Api);
    expect((await refusalOf(() => stranger.listNamespace())).code).toBe(401);
  });
});
