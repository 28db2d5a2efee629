import type { TestProject } from "vitest/node";
import { startApiServerRig } from "./api-server-rig.js";
import { kubernetesTools } from "./kubernetes-tools.js";
import { SHARED_API_SERVER_KEY } from "./shared-api-server.js";

/** @kubernetes/client-node 2.x uses undici 8, which needs this Node or later. */
const MIN_NODE = [22, 19] as const;

/**
 * vitest global setup of the Kubernetes suite: refuses a Node the client cannot run on, resolves
 * the tools once (their paths reach the workers through the env overrides), and starts the shared
 * API server (RBAC, CRDs installed) that test files use through sharedApiServer(); files that
 * need one of their own (other users, AlwaysAllow, restarts) start it with startApiServerRig().
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    throw new Error(`the Kubernetes suite needs Node >= ${MIN_NODE.join(".")} (this is ${process.version}): run it with npm run test:kubernetes, which uses Node 24 from scripts/install-node`);
  }
  const tools = kubernetesTools();
  process.env.ETCD_BIN = tools.etcd;
  process.env.KUBE_APISERVER_BIN = tools.kubeApiserver;
  process.env.KUBERNETES_CRDS_DIR = tools.crdsDir;

  const rig = await startApiServerRig();
  const t = rig.timings;
  console.log(
    `shared API server ${rig.url}: etcd ready in ${t.etcdReadyMs.toFixed(0)} ms, kube-apiserver ready in ${t.apiServerReadyMs.toFixed(0)} ms, CRDs Established in ${t.crdsEstablishedMs.toFixed(0)} ms (${t.totalMs.toFixed(0)} ms in all)`,
  );
  project.provide(SHARED_API_SERVER_KEY, { url: rig.url, caPem: rig.caPem, adminToken: rig.admin.token, kubeconfigPath: rig.kubeconfigPath, timings: t });
  return () => rig.close();
}
