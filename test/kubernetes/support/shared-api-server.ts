import type { KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import { RIG_ADMIN, type ApiServerRigTimings } from "./api-server-rig.js";
import { kubeConfigFor, serviceAccountToken, type ApiServerEndpoint } from "./kube-config.js";

export const SHARED_API_SERVER_KEY = "detourSharedApiServer";

/** What the global setup hands the test files about the shared API server. */
export interface SharedApiServerInfo extends ApiServerEndpoint {
  readonly adminToken: string;
  readonly kubeconfigPath: string;
  readonly timings: ApiServerRigTimings;
}

declare module "vitest" {
  export interface ProvidedContext {
    [SHARED_API_SERVER_KEY]: SharedApiServerInfo;
  }
}

export interface SharedApiServer extends ApiServerEndpoint {
  /** The admin kubeconfig as a file, for child processes. */
  readonly kubeconfigPath: string;
  readonly timings: ApiServerRigTimings;
  /** A client configuration: the admin's (system:masters), or a bearer token's. */
  kubeConfig(who?: { token: string }): KubeConfig;
  /** A ServiceAccount token, to act with exactly the rights RBAC binds to that account. */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
}

/**
 * The API server every test file of the suite shares (started once by global-setup.ts, RBAC
 * mode, Istio's and Gateway API's CRDs installed). Files share its etcd: each works in
 * namespaces named after itself and never restarts or reconfigures it.
 */
export function sharedApiServer(): SharedApiServer {
  const info = inject(SHARED_API_SERVER_KEY);
  const endpoint: ApiServerEndpoint = { url: info.url, caPem: info.caPem };
  const kubeConfig = (who?: { token: string }) => kubeConfigFor(endpoint, who?.token ?? info.adminToken, who === undefined ? RIG_ADMIN : "bearer");
  return {
    ...endpoint,
    kubeconfigPath: info.kubeconfigPath,
    timings: info.timings,
    kubeConfig,
    serviceAccountToken: (namespace, name, expirationSeconds) => serviceAccountToken(kubeConfig(), endpoint, namespace, name, expirationSeconds),
  };
}
