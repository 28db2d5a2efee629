import type { DetourConfig } from "@detour/ext-proc";
import { detourHttpRoutes, ISTIO_NETWORKING_API_VERSION, ownedMetadata, versionLabelValue, type KubernetesObject, type ServiceRouting } from "@detour/ext-proc/kubernetes";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { EDGE_ROUTES_NAME } from "./kubernetes-names.js";
import { sortedNames } from "./sorted-names.js";

/**
 * One service of the topology as the routing-object builders take it (the server's discovery
 * builds the same objects with them): every version, in byte order, selected by the version
 * label. Throws DetourError for a version that cannot be a label value.
 */
export function serviceRouting(service: string, config: DetourConfig, options: KubernetesOptions): ServiceRouting {
  const spec = config.services[service]!;
  return {
    service,
    namespace: options.namespace,
    clusterDomain: options.clusterDomain,
    baseline: spec.baseline,
    versions: sortedNames(spec.versions).map((version) => ({ name: version, selector: { [options.versionLabel]: versionLabelValue(service, version, options.versionLabel) } })),
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
    spec: { hosts: [...options.gatewayHosts], gateways: [options.gateway], http: detourHttpRoutes(serviceRouting(service, config, options)) },
  };
}
