import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** Where a rig's API server is and how to trust it: what a client needs besides a token. */
export interface ApiServerEndpoint {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
}

/**
 * A client configuration for `@kubernetes/client-node` that authenticates with a bearer token
 * and verifies the serving certificate against the rig's CA (no insecure-skip-tls-verify).
 * `exportConfig()` of it is a kubeconfig file for child processes.
 */
export function kubeConfigFor(endpoint: ApiServerEndpoint, token: string, user = "detour-rig-user"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "detour-rig", server: endpoint.url, caData: Buffer.from(endpoint.caPem).toString("base64"), skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: "detour-rig", cluster: "detour-rig", user }],
    currentContext: "detour-rig",
  });
  return kc;
}

/**
 * A token for a ServiceAccount from the TokenRequest API (what a pod's projected token is),
 * requested by `admin`. The ServiceAccount must exist; RBAC then treats the bearer as
 * `system:serviceaccount:<namespace>:<name>`.
 */
export async function serviceAccountToken(admin: KubeConfig, endpoint: ApiServerEndpoint, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [endpoint.url], expirationSeconds } } });
  const token = request.status?.token;
  if (token === undefined) throw new Error(`the TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
