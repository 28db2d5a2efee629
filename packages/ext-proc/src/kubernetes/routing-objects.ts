import { ROUTE_HEADER } from "@detour/core";
import { ownedMetadata, type KubernetesObject } from "./detour-ownership.js";
import { BASELINE_ROUTE_NAME, dnsLabelName, NAME_PREFIX, serviceHost, serviceRoutingName, subsetName, versionRouteName, versionServiceName } from "./routing-names.js";

/** VirtualService and DestinationRule are served as v1 since Istio 1.22. */
export const ISTIO_NETWORKING_API_VERSION = "networking.istio.io/v1";
export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";
/** Gateway API caps an HTTPRoute at 16 rules; a service with more versions gets several routes on the same parent. */
export const MAX_RULES_PER_HTTP_ROUTE = 16;

/**
 * One service's routing as both `detour kubernetes` and the server's writer see it: where the
 * service is, its baseline, and every version with the pod labels that select its pods.
 */
export interface ServiceRouting {
  readonly service: string;
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly baseline: string;
  /** In byte order of their names: every list in the objects follows it. */
  readonly versions: readonly { readonly name: string; readonly selector: Readonly<Record<string, string>> }[];
}

/** One subset per version, selected by the version's labels (and the host's own selector). */
export function destinationRule(routing: ServiceRouting): KubernetesObject {
  return {
    apiVersion: ISTIO_NETWORKING_API_VERSION,
    kind: "DestinationRule",
    metadata: ownedMetadata(serviceRoutingName(routing.service), routing.namespace, "routing"),
    spec: {
      host: serviceHost(routing.service, routing.namespace, routing.clusterDomain),
      subsets: routing.versions.map((version) => ({ name: subsetName(version.name), labels: { ...version.selector } })),
    },
  };
}

/**
 * The HTTP routes detour needs for one service: `x-detour-route: exact <v>` to subset `<v>` for
 * each version (ext_proc sets the header after deciding), then everything else to the baseline.
 * Exactly what a team that owns the service's VirtualService merges into it (routes first).
 */
export function detourHttpRoutes(routing: ServiceRouting): Record<string, unknown>[] {
  const host = serviceHost(routing.service, routing.namespace, routing.clusterDomain);
  const routes: Record<string, unknown>[] = routing.versions.map((version) => ({
    name: versionRouteName(version.name),
    match: [{ headers: { [ROUTE_HEADER]: { exact: version.name } } }],
    route: [{ destination: { host, subset: subsetName(version.name) } }],
  }));
  routes.push({ name: BASELINE_ROUTE_NAME, route: [{ destination: { host, subset: subsetName(routing.baseline) } }] });
  return routes;
}

export function virtualService(routing: ServiceRouting): KubernetesObject {
  return {
    apiVersion: ISTIO_NETWORKING_API_VERSION,
    kind: "VirtualService",
    metadata: ownedMetadata(serviceRoutingName(routing.service), routing.namespace, "routing"),
    spec: { hosts: [serviceHost(routing.service, routing.namespace, routing.clusterDomain)], http: detourHttpRoutes(routing) },
  };
}

/**
 * GAMMA routes of one service: HTTPRoutes whose parent is the service's own Service, sending
 * `x-detour-route: <v>` (exact) to version `<v>`'s Service (port `servicePort`) and everything
 * else to the baseline's. Every rule removes x-detour-route before the request leaves. A header
 * match always outranks the rule without one (Gateway API precedence), so splitting the rules
 * over several routes changes nothing.
 */
export function httpRoutes(routing: ServiceRouting, servicePort: number): KubernetesObject[] {
  const { service } = routing;
  const removeRouteHeader = { type: "RequestHeaderModifier", requestHeaderModifier: { remove: [ROUTE_HEADER] } };
  const backend = (version: string) => [{ name: versionServiceName(service, version), port: servicePort }];
  const rules: Record<string, unknown>[] = routing.versions.map((version) => ({
    matches: [{ headers: [{ type: "Exact", name: ROUTE_HEADER, value: version.name }] }],
    filters: [removeRouteHeader],
    backendRefs: backend(version.name),
  }));
  rules.push({ filters: [removeRouteHeader], backendRefs: backend(routing.baseline) });
  const routes: KubernetesObject[] = [];
  for (let start = 0; start < rules.length; start += MAX_RULES_PER_HTTP_ROUTE) {
    const part = start / MAX_RULES_PER_HTTP_ROUTE + 1;
    const name = part === 1 ? serviceRoutingName(service) : dnsLabelName([NAME_PREFIX, service, String(part)]);
    routes.push({
      apiVersion: GATEWAY_API_VERSION,
      kind: "HTTPRoute",
      metadata: ownedMetadata(name, routing.namespace, "routing"),
      spec: { parentRefs: [{ group: "", kind: "Service", name: service }], rules: rules.slice(start, start + MAX_RULES_PER_HTTP_ROUTE) },
    });
  }
  return routes;
}
