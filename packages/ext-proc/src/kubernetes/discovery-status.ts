import type { DetourConfig } from "../config/detour-config-schema.js";
import { LISTED_PROBLEMS_LIMIT } from "../constants.js";
import { countedDecisions, type KubernetesSourceStatus, type ServiceStatus, type TopologyOrigin, type TopologyStatus, type VersionCounts, type VersionStatus } from "../server/topology-status.js";
import type { DiscoveredTopology, DiscoveredVersion } from "./discovered-topology.js";
import type { TopologyProblem } from "./topology-problem.js";

export interface DiscoveryStatusInput {
  readonly staticConfig: DetourConfig;
  readonly discovered: DiscoveredTopology;
  readonly problems: readonly TopologyProblem[];
  readonly kubernetes: KubernetesSourceStatus;
}

function origin(declared: boolean, discovered: boolean): TopologyOrigin {
  return declared && discovered ? "static+discovered" : discovered ? "discovered" : "static";
}

function discoveredFields(version: DiscoveredVersion): Partial<VersionStatus> {
  return {
    readyPods: version.readyPods,
    ...(version.expiresAt === undefined ? {} : { expiresAt: new Date(version.expiresAt).toISOString(), expired: version.expired }),
    ...(version.deployments.length === 0 ? {} : { deployments: version.deployments }),
  };
}

/**
 * The status of the routing table (from the server) with what discovery knows added: where each
 * service and version comes from, discovered versions' pods, expiry and Deployments, versions
 * that are deployed but not routable (expired, or without Ready pods), the watch's health and
 * the problems. Pure.
 */
export function describeDiscovery(status: TopologyStatus, counts: VersionCounts, input: DiscoveryStatusInput): TopologyStatus {
  const { staticConfig, discovered } = input;
  const byService = new Map<string, DiscoveredVersion[]>();
  for (const version of discovered.versions) {
    const list = byService.get(version.service) ?? [];
    list.push(version);
    byService.set(version.service, list);
  }
  const services: ServiceStatus[] = status.services.map((service) => {
    const found = discovered.services.get(service.name);
    const declared = Object.hasOwn(staticConfig.services, service.name) ? staticConfig.services[service.name] : undefined;
    const seen = (found === undefined ? [] : (byService.get(service.name) ?? [])).filter((version) => version.namespace === found?.namespace);
    const versions: VersionStatus[] = service.versions.map((version) => {
      const match = seen.find((entry) => entry.version === version.name && entry.readyPods > 0);
      const inFile = declared !== undefined && Object.hasOwn(declared.versions, version.name);
      return { ...version, origin: origin(inFile, match !== undefined), ...(match === undefined ? {} : discoveredFields(match)) };
    });
    const listed = new Set(versions.map((version) => version.name));
    for (const version of seen) {
      if (listed.has(version.version)) continue;
      listed.add(version.version);
      versions.push({ name: version.version, origin: "discovered", routable: false, ...discoveredFields(version), ...countedDecisions(counts, service.name, version.version) });
    }
    versions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      ...service,
      origin: origin(declared !== undefined, found !== undefined),
      ...(found === undefined ? {} : { namespace: found.namespace }),
      versions,
    };
  });
  return {
    ...status,
    source: "kubernetes",
    kubernetes: input.kubernetes,
    services,
    problems: input.problems.slice(0, LISTED_PROBLEMS_LIMIT),
    problemCount: input.problems.length,
  };
}
