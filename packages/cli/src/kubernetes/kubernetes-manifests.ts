import { stringify } from "yaml";
import { DetourError } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { extProcConfigYaml } from "../generate/ext-proc-config.js";
import { destinationRule, httpRoutes, virtualService, type KubernetesObject } from "@detour/ext-proc/kubernetes";
import { versionService } from "./gamma-routes.js";
import type { RoutingConflict } from "./existing-routing.js";
import { edgeEnvoyFilter, identifiedWorkloads, sidecarEnvoyFilter, workloadEnvoyFilter } from "./istio-envoy-filters.js";
import { edgeVirtualService, serviceRouting } from "./istio-routes.js";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { serverConfigForCluster } from "./server-config.js";
import { serverObjects } from "./server-objects.js";
import { sortedNames } from "./sorted-names.js";

export interface KubernetesManifests {
  readonly objects: readonly KubernetesObject[];
  /** The server config the ConfigMap holds, and its text there. */
  readonly serverConfig: DetourConfig;
  readonly serverConfigText: string;
  /** Keys the token-keys Secret must hold (empty without edge.tokens). */
  readonly keyFiles: readonly string[];
}

/**
 * Every object of a detour install for one topology, in apply order: the server (ServiceAccount,
 * ConfigMap, Service, Deployment, PodDisruptionBudget); in `istio` mode the EnvoyFilters
 * (namespace-wide sidecar, per identified workload, ingress gateway when the topology has an
 * edge) and per service a DestinationRule and a VirtualService (unless `leaveOut` names one
 * someone else owns); in `gamma` mode per service a Service per version and the HTTPRoutes.
 * Pure: no I/O.
 */
export function kubernetesManifests(topology: DetourConfig, options: KubernetesOptions, header: string, leaveOut: readonly RoutingConflict[] = []): KubernetesManifests {
  for (const service of options.skipRoutes) {
    if (!Object.hasOwn(topology.services, service)) {
      throw new DetourError("usage", `--skip-routes ${service}: not a service of the topology (services: ${Object.keys(topology.services).join(", ")})`);
    }
  }
  const { config, keyFiles } = serverConfigForCluster(topology);
  const serverConfigText = extProcConfigYaml(config, header);
  const objects: KubernetesObject[] = serverObjects(options, config, keyFiles, serverConfigText);
  if (options.mode === "istio" || options.envoyFilters) {
    objects.push(sidecarEnvoyFilter(topology, options));
    for (const workload of identifiedWorkloads(topology)) objects.push(workloadEnvoyFilter(topology, options, workload));
    if (topology.edge !== undefined) objects.push(edgeEnvoyFilter(topology, options));
  }
  const routed = sortedNames(topology.services).filter((service) => !options.skipRoutes.includes(service));
  if (options.mode === "istio") {
    // Someone else's VirtualService or DestinationRule for a host: theirs stays, detour's is left out.
    const owned = (service: string, kind: RoutingConflict["kind"]) => !leaveOut.some((conflict) => conflict.service === service && conflict.kind === kind);
    for (const service of routed) {
      if (owned(service, "DestinationRule")) objects.push(destinationRule(serviceRouting(service, topology, options)));
      if (owned(service, "VirtualService")) objects.push(virtualService(serviceRouting(service, topology, options)));
    }
    const edge = edgeVirtualService(topology, options);
    if (edge !== undefined) objects.push(edge);
  } else {
    for (const service of routed) {
      for (const version of sortedNames(topology.services[service]!.versions)) objects.push(versionService(service, version, options));
      objects.push(...httpRoutes(serviceRouting(service, topology, options), options.servicePort));
    }
  }
  return { objects, serverConfig: config, serverConfigText, keyFiles };
}

/** One object as a YAML document (no anchors: kubectl and Helm users read these). */
export function objectYaml(object: KubernetesObject): string {
  return stringify(object, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** `# line` comments of a header text. */
export function commentLines(header: string): string {
  return header
    .split("\n")
    .map((line) => `# ${line}`.trimEnd())
    .join("\n");
}

/** The objects as one YAML stream for `kubectl apply -f -`, the header as a comment on top. */
export function kubernetesYaml(objects: readonly KubernetesObject[], header: string): string {
  return `${commentLines(header)}\n${objects.map((object) => `---\n${objectYaml(object)}`).join("")}`;
}
