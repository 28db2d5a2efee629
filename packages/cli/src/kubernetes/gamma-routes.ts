import { ROUTE_HEADER } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { versionLabelValue } from "./kubernetes-labels.js";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { dnsLabelName, NAME_PREFIX, serviceRoutingName, versionServiceName } from "./kubernetes-names.js";
import { ownedMetadata, type KubernetesObject } from "./kubernetes-object.js";
import { sortedNames } from "./sorted-names.js";

export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

/** Gateway API caps an HTTPRoute at 16 rules; a service with more versions gets several routes on the same parent. */
export const MAX_RULES_PER_HTTP_ROUTE = 16;

/** A Service per version (`detour-pricing-v2`) selecting that version's pods: the backendRef GAMMA routes need. */
export function versionService(service: string, version: string, options: KubernetesOptions): KubernetesObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(versionServiceName(service, version), options.namespace, "routing"),
    spec: {
      selector: { [options.appLabel]: service, [options.versionLabel]: versionLabelValue(service, version, options.versionLabel) },
      ports: [{ name: "http", port: options.servicePort, targetPort: options.targetPort ?? options.servicePort, protocol: "TCP", appProtocol: "http" }],
    },
  };
}

/**
 * GAMMA routes of one service: HTTPRoutes whose parent is the service's own Service, sending
 * `x-detour-route: <v>` (exact) to version `<v>`'s Service and everything else to the baseline's.
 * Every rule removes x-detour-route before the request leaves. A header match always outranks
 * the rule without one (Gateway API precedence), so splitting the rules over several routes
 * changes nothing.
 */
export function httpRoutes(service: string, config: DetourConfig, options: KubernetesOptions): KubernetesObject[] {
  const spec = config.services[service]!;
  const removeRouteHeader = { type: "RequestHeaderModifier", requestHeaderModifier: { remove: [ROUTE_HEADER] } };
  const backend = (version: string) => [{ name: versionServiceName(service, version), port: options.servicePort }];
  const rules: Record<string, unknown>[] = sortedNames(spec.versions).map((version) => ({
    matches: [{ headers: [{ type: "Exact", name: ROUTE_HEADER, value: version }] }],
    filters: [removeRouteHeader],
    backendRefs: backend(version),
  }));
  rules.push({ filters: [removeRouteHeader], backendRefs: backend(spec.baseline) });
  const routes: KubernetesObject[] = [];
  for (let start = 0; start < rules.length; start += MAX_RULES_PER_HTTP_ROUTE) {
    const part = start / MAX_RULES_PER_HTTP_ROUTE + 1;
    const name = part === 1 ? serviceRoutingName(service) : dnsLabelName([NAME_PREFIX, service, String(part)]);
    routes.push({
      apiVersion: GATEWAY_API_VERSION,
      kind: "HTTPRoute",
      metadata: ownedMetadata(name, options.namespace, "routing"),
      spec: { parentRefs: [{ group: "", kind: "Service", name: service }], rules: rules.slice(start, start + MAX_RULES_PER_HTTP_ROUTE) },
    });
  }
  return routes;
}
