import { DetourError, isValidService, isValidVersion } from "@detour/core";
import { assertKubernetesClientNode, EXPIRES_AT_ANNOTATION } from "@detour/ext-proc/kubernetes";
import { fetchServerTopology } from "./server-topology.js";

/** The field manager of `detour sandbox expire`'s annotation: a person's command, not the server's controller. */
export const SANDBOX_FIELD_MANAGER = "detour-sandbox";

export interface ExpireRequest {
  /** `service/version`. */
  readonly workload: string;
  /** The server's operations port, which says where the version's Deployments are. */
  readonly serverUrl: string;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  /** When it expires (epoch ms): now, or a moment given with --at. */
  readonly at: number;
}

export interface ExpireResult {
  readonly namespace: string;
  readonly deployments: readonly string[];
  readonly expiresAt: string;
}

/** `pricing/pr-7` -> its parts, or a usage error. */
export function parseWorkload(text: string): { service: string; version: string } {
  const slash = text.indexOf("/");
  const service = text.slice(0, slash).toLowerCase();
  const version = text.slice(slash + 1);
  if (slash === -1 || !isValidService(service) || !isValidVersion(version)) {
    throw new DetourError("usage-workload", `'${text}' is not SERVICE/VERSION: write e.g. pricing/pr-7`);
  }
  return { service, version };
}

/**
 * Ends a sandbox early by writing `detour.dev/expires-at` on the Deployments that make the
 * version (found through the server's GET /status), with the person's own credentials: every
 * server replica watches the annotation, so the version stops being routable at that moment,
 * exactly as when a TTL passes (log line, metric, Event), and the Deployment stays.
 */
export async function expireVersion(request: ExpireRequest): Promise<ExpireResult> {
  const { service, version } = parseWorkload(request.workload);
  const status = await fetchServerTopology(request.serverUrl);
  const found = status.services.find((entry) => entry.name === service);
  if (found === undefined) throw new DetourError("sandbox-unknown", `the server knows no service '${service}' (services: ${status.services.map((entry) => entry.name).join(", ") || "none"})`);
  if (found.namespace === undefined) throw new DetourError("sandbox-unknown", `service '${service}' comes from the server's config file, not the cluster: nothing to expire; remove the version from detour.yaml instead`);
  const entry = found.versions.find((candidate) => candidate.name === version);
  if (entry === undefined || entry.origin === "static") {
    throw new DetourError("sandbox-unknown", `the server has no discovered version '${version}' of '${service}' (discovered: ${found.versions.filter((candidate) => candidate.origin !== "static").map((candidate) => candidate.name).join(", ") || "none"})`);
  }
  const deployments = entry.deployments ?? [];
  if (deployments.length === 0) throw new DetourError("sandbox-unknown", `${service}/${version} has no Deployment (its pods were created another way): expiry is set on Deployments; delete its pods instead`);
  assertKubernetesClientNode("detour sandbox expire");
  const { DetourKubernetesApi, kubeConfigFromFile, failureMessage } = await import("@detour/ext-proc/kubernetes-client");
  const api = DetourKubernetesApi.fromKubeConfig(kubeConfigFromFile(request.kubeconfig, request.context));
  const expiresAt = new Date(request.at).toISOString();
  for (const name of deployments) {
    try {
      await api.mergePatch({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: found.namespace } }, { metadata: { annotations: { [EXPIRES_AT_ANNOTATION]: expiresAt } } }, SANDBOX_FIELD_MANAGER);
    } catch (error) {
      throw new DetourError("sandbox-write", `cannot annotate Deployment ${found.namespace}/${name}: ${failureMessage(error)}`, { cause: error });
    }
  }
  return { namespace: found.namespace, deployments, expiresAt };
}
