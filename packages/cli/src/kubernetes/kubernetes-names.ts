import { dnsLabelName, NAME_LABEL, NAME_PREFIX, PART_OF_LABEL, PART_OF_VALUE } from "@detour/ext-proc/kubernetes";

/*
 * Names, ports and paths of the server objects and EnvoyFilters detour renders into a cluster,
 * in one place: the generator, the Helm chart's tests and the docs refer to them by these. The
 * names and labels the server shares (the ownership mark, the routing objects' names) are in
 * @detour/ext-proc/kubernetes.
 */

/** Name of the server's Deployment, Service, ServiceAccount and PodDisruptionBudget. */
export const SERVER_NAME = "detour-ext-proc";
/** ConfigMap holding the server config (`detour.yaml` inside). */
export const CONFIG_MAP_NAME = "detour-ext-proc-config";
/** Key of the server config in the ConfigMap, and its file name in the mounted directory. */
export const CONFIG_FILE_KEY = "detour.yaml";
/**
 * Directory the ConfigMap is mounted at: where the server image looks by default
 * (deploy/docker/ext-proc.Dockerfile). A directory, not a subPath mount: the kubelet swaps
 * ConfigMap updates in by symlink, which a subPath mount never sees.
 */
export const CONFIG_DIR = "/etc/detour";
/**
 * Directory the token-keys Secret is mounted at; edge.tokens key files are rewritten into it.
 * Beside the config directory, not inside it: a ConfigMap volume is read-only and replaced as a
 * whole on every update.
 */
export const TOKEN_KEYS_DIR = "/etc/detour-keys";

export const GRPC_PORT = 50051;
export const METRICS_PORT = 9464;
export const GRPC_PORT_NAME = "grpc";
export const METRICS_PORT_NAME = "metrics";

/** The server pods' selector (stable: a Deployment's selector cannot change after creation). */
export const SERVER_SELECTOR: Readonly<Record<string, string>> = { [NAME_LABEL]: SERVER_NAME, [PART_OF_LABEL]: PART_OF_VALUE };

/** `detour-sidecar`: the namespace-wide EnvoyFilter that puts ext_proc into every sidecar. */
export const SIDECAR_FILTER_NAME = "detour-sidecar";
/** `detour-edge`: the ingress gateway's EnvoyFilter. */
export const EDGE_FILTER_NAME = "detour-edge";
/** `detour-edge`: the VirtualService routing the edge service's versions at the gateway. */
export const EDGE_ROUTES_NAME = "detour-edge";

/** `detour-workload-cart-pr-7`: the EnvoyFilter giving one workload its identity. */
export function workloadFilterName(workload: string): string {
  const [service, version] = workload.split("/") as [string, string];
  return dnsLabelName([NAME_PREFIX, "workload", service, version]);
}
