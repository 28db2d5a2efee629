import type { DetourConfig, ServiceConfig, WorkloadConfig } from "../config/detour-config-schema.js";
import { BASELINE_ANNOTATION, MISS_ANNOTATION } from "../constants.js";
import type { DiscoveredTopology } from "./discovered-topology.js";
import { objectRef, type TopologyProblem } from "./topology-problem.js";

export interface MergedTopology {
  /** detour.yaml with the discovered services, versions and injections merged in. */
  readonly config: DetourConfig;
  /** Discovery's problems and the merge's conflicts. */
  readonly problems: readonly TopologyProblem[];
}

/**
 * Merges what the cluster shows into detour.yaml (docs/kubernetes.md, Merge rules):
 * - a service in detour.yaml keeps its entry (baseline, miss policy, hosts, versions); its
 *   discovered versions are added to its versions. A detour.dev/baseline or detour.dev/miss
 *   annotation that disagrees with the entry is a conflict: the entry wins, the conflict is reported;
 * - a service only discovered is routed when its Service names a baseline (detour.dev/baseline);
 *   without one it is reported and left out, never given a guessed baseline. Its miss policy is
 *   detour.dev/miss, default fallback;
 * - a discovered name that is a host of a detour.yaml service is a conflict: left out;
 * - versions listed in detour.yaml are always routable; readiness and expiry apply to discovered ones;
 * - a workload's injection from detour.yaml wins over its pod template's; a different one is a conflict.
 * Pure; the result is built directly (no re-validation): every part of it was validated where it came from.
 */
export function mergeTopology(staticConfig: DetourConfig, discovered: DiscoveredTopology): MergedTopology {
  const problems: TopologyProblem[] = [...discovered.problems];
  if (discovered.services.size === 0 && discovered.injections.size === 0) return { config: staticConfig, problems };
  const services: Record<string, ServiceConfig> = { ...staticConfig.services };
  const hostOwner = new Map<string, string>();
  for (const [name, spec] of Object.entries(staticConfig.services)) for (const host of spec.hosts) hostOwner.set(host.toLowerCase(), name);

  for (const [name, found] of discovered.services) {
    const object = objectRef("Service", { namespace: found.namespace, name });
    const declared = Object.hasOwn(staticConfig.services, name) ? staticConfig.services[name] : undefined;
    if (declared !== undefined) {
      if (found.baseline !== undefined && found.baseline !== declared.baseline) {
        problems.push({
          code: "baseline-disagrees",
          service: name,
          object,
          message: `${BASELINE_ANNOTATION} says '${found.baseline}' but detour.yaml says '${declared.baseline}': detour.yaml's baseline is used; make them agree or remove one`,
        });
      }
      if (found.miss !== undefined && found.miss !== declared.miss) {
        problems.push({
          code: "miss-disagrees",
          service: name,
          object,
          message: `${MISS_ANNOTATION} says '${found.miss}' but detour.yaml says '${declared.miss}': detour.yaml's policy is used; make them agree or remove one`,
        });
      }
      const versions = { ...declared.versions };
      for (const version of found.versions.keys()) if (!Object.hasOwn(versions, version)) versions[version] = {};
      services[name] = { ...declared, versions };
      continue;
    }
    const owner = hostOwner.get(name);
    if (owner !== undefined) {
      problems.push({ code: "name-taken-by-host", service: name, object, message: `'${name}' is a host of service '${owner}' in detour.yaml: the discovered service '${name}' is left out; rename one` });
      continue;
    }
    if (found.baseline === undefined) {
      problems.push({
        code: "no-baseline",
        service: name,
        object,
        message: `service '${name}' has no baseline: annotate its Service with ${BASELINE_ANNOTATION}: <version> or list it in detour.yaml; until then detour does not route it`,
      });
      continue;
    }
    const versions: ServiceConfig["versions"] = {};
    for (const version of found.versions.keys()) versions[version] = {};
    services[name] = { baseline: found.baseline, miss: found.miss ?? "fallback", hosts: [], versions };
  }

  const workloads: Record<string, WorkloadConfig> = { ...staticConfig.workloads };
  for (const [workload, inject] of discovered.injections) {
    const service = workload.slice(0, workload.indexOf("/"));
    if (!Object.hasOwn(services, service)) continue;
    const declared = Object.hasOwn(staticConfig.workloads, workload) ? staticConfig.workloads[workload] : undefined;
    if (declared?.inject !== undefined) {
      if (declared.inject !== inject) {
        problems.push({
          code: "inject-disagrees",
          service,
          version: workload.slice(service.length + 1),
          message: `workload ${workload}: its pod template injects '${inject}' but detour.yaml says '${declared.inject}': detour.yaml's is used; make them agree or remove one`,
        });
      }
      continue;
    }
    workloads[workload] = { ...declared, inject };
  }
  return { config: { ...staticConfig, services, workloads }, problems };
}
