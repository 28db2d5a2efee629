import { ROUTE_HEADER } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { versionLabelValue } from "./kubernetes-labels.js";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { EDGE_ROUTES_NAME, serviceHost, serviceRoutingName, subsetName } from "./kubernetes-names.js";
import { ownedMetadata, type KubernetesObject } from "./kubernetes-object.js";
import { sortedNames } from "./sorted-names.js";

/** VirtualService and DestinationRule are served as v1 since Istio 1.22. */
export const ISTIO_NETWORKING_API_VERSION = "networking.istio.io/v1";

/** Name of the VirtualService route that sends `version`'s requests to its subset (and of its Envoy route). */
export function versionRouteName(version: string): string {
  return `detour-${subsetName(version)}`;
}

/** Name of the last route: everything else goes to the baseline. */
export const BASELINE_ROUTE_NAME = "detour-baseline";

/** One subset per version, selected by the version label (and the host's own selector). */
export function destinationRule(service: string, config: DetourConfig, options: KubernetesOptions): KubernetesObject {
  const spec = config.services[service]!;
  return {
    apiVersion: ISTIO_NETWORKING_API_VERSION,
    kind: "DestinationRule",
    metadata: ownedMetadata(serviceRoutingName(service), options.namespace, "routing"),
    spec: {
      host: serviceHost(service, options.namespace, options.clusterDomain),
      subsets: sortedNames(spec.versions).map((version) => ({
        name: subsetName(version),
        labels: { [options.versionLabel]: versionLabelValue(service, version, options.versionLabel) },
      })),
    },
  };
}

/**
 * The HTTP routes detour needs for one service: `x-detour-route: exact <v>` to subset `<v>` for
 * each version (ext_proc sets the header after deciding), then everything else to the baseline.
 * Exactly what a team that owns the service's VirtualService merges into it (routes first).
 */
export function detourHttpRoutes(service: string, config: DetourConfig, options: KubernetesOptions): Record<string, unknown>[] {
  const spec = config.services[service]!;
  const host = serviceHost(service, options.namespace, options.clusterDomain);
  const routes: Record<string, unknown>[] = sortedNames(spec.versions).map((version) => ({
    name: versionRouteName(version),
    match: [{ headers: { [ROUTE_HEADER]: { exact: version } } }],
    route: [{ destination: { host, subset: subsetName(version) } }],
  }));
  routes.push({ name: BASELINE_ROUTE_NAME, route: [{ destination: { host, subset: subsetName(spec.baseline) } }] });
  return routes;
}

export function virtualService(service: string, config: DetourConfig, options: KubernetesOptions): KubernetesObject {
  return {
    apiVersion: ISTIO_NETWORKING_API_VERSION,
    kind: "VirtualService",
    metadata: ownedMetadata(serviceRoutingName(service), options.namespace, "routing"),
    spec: { hosts: [serviceHost(service, options.namespace, options.clusterDomain)], http: detourHttpRoutes(service, config, options) },
  };
}

/**
 * The edge service's versions at the ingress gateway: the gateway's edge ext_proc sets
 * x-detour-route for the edge service (edge.service), and these routes of the gateway's hosts
 * pick the subset. Rendered only for the hosts named with --gateway-host.
 */
export function edgeVirtualService(config: DetourConfig, options: KubernetesOptions): KubernetesObject | undefined {
  const service = config.edge?.service;
  if (service === undefined || options.gatewayHosts.length === 0) return undefined;
  return {
    apiVersion: ISTIO_NETWORKING_API_VERSION,
    kind: "VirtualService",
    metadata: ownedMetadata(EDGE_ROUTES_NAME, options.namespace, "edge"),
    spec: { hosts: [...options.gatewayHosts], gateways: [options.gateway], http: detourHttpRoutes(service, config, options) },
  };
}
