import { createHash } from "node:crypto";

/*
 * Names, labels, ports and paths of the objects detour renders into a cluster, in one place:
 * the generator, the Helm chart's tests and the docs refer to them by these.
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

/**
 * Labels on every object detour renders. `app.kubernetes.io/part-of: detour` is the ownership
 * mark (select detour's objects with `-l app.kubernetes.io/part-of=detour`): detour creates,
 * changes and deletes only objects carrying it. `managed-by` says which tool rendered them; Helm
 * replaces it with `Helm` at install, so ownership never depends on it.
 */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF_VALUE = "detour";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "detour";
export const NAME_LABEL = "app.kubernetes.io/name";
export const COMPONENT_LABEL = "app.kubernetes.io/component";

/** The server pods' selector (stable: a Deployment's selector cannot change after creation). */
export const SERVER_SELECTOR: Readonly<Record<string, string>> = { [NAME_LABEL]: SERVER_NAME, [PART_OF_LABEL]: PART_OF_VALUE };

/** Prefix of every object name detour renders, so none can collide with a name a team chose. */
export const NAME_PREFIX = "detour";

/** Longest Kubernetes object name that is also a DNS label (Services, and every name used as one). */
const MAX_LABEL = 63;
/** Hex digits of the hash that keeps a shortened or folded name unique. */
const HASH_DIGITS = 8;

/**
 * A DNS-1035 label (lower-case letters, digits, '-'; starts with a letter) built from `parts`
 * joined by '-'. Versions may hold upper case, '.' and '_', which a label cannot: those are
 * folded to lower case and '-', and then, because folding can make two names equal (`v1.0` and
 * `v1-0`) or the name may be too long, a hash of the exact parts is appended whenever the
 * folded name is not the exact text or is longer than 63 characters.
 */
export function dnsLabelName(parts: readonly string[]): string {
  const exact = parts.join("-");
  const folded = exact.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (folded === exact && folded.length <= MAX_LABEL && /^[a-z]/.test(folded) && !folded.endsWith("-")) return folded;
  const hash = createHash("sha256").update(parts.join("/")).digest("hex").slice(0, HASH_DIGITS);
  const head = folded.slice(0, MAX_LABEL - HASH_DIGITS - 1).replace(/-+$/, "");
  return `${head}-${hash}`;
}

/** `detour-pricing`: the VirtualService, DestinationRule and HTTPRoute of one service. */
export function serviceRoutingName(service: string): string {
  return dnsLabelName([NAME_PREFIX, service]);
}

/** `detour-pricing-v2`: the per-version Service (GAMMA backendRef) of one version. */
export function versionServiceName(service: string, version: string): string {
  return dnsLabelName([NAME_PREFIX, service, version]);
}

/** `v2`: the DestinationRule subset of one version (Istio requires a DNS-1123 label). */
export function subsetName(version: string): string {
  const folded = version.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (folded === version && folded.length <= MAX_LABEL && /^[a-z0-9]/.test(folded) && !folded.endsWith("-")) return folded;
  return dnsLabelName(["v", version]);
}

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

/** `pricing.shop.svc.cluster.local`. */
export function serviceHost(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}
