import { isValidService, isValidVersion, parseOverrides } from "@detour/core";
import type { MissPolicy } from "../config/detour-config-schema.js";
import { BASELINE_ANNOTATION, INJECT_ANNOTATION, MISS_ANNOTATION } from "../constants.js";
import { selectorMatches, type DeploymentView, type PodView, type ServiceView } from "./object-views.js";
import { objectRef, type TopologyProblem } from "./topology-problem.js";
import { deploymentExpiry } from "./workload-expiry.js";

/** The watched objects at one moment (informer caches). */
export interface ClusterSnapshot {
  readonly pods: Iterable<PodView>;
  readonly services: Iterable<ServiceView>;
  readonly deployments: Iterable<DeploymentView>;
}

export interface DiscoverySettings {
  /** Pod label keys naming the service, first present wins. */
  readonly serviceLabels: readonly string[];
  /** Pod label keys naming the version, first present wins. */
  readonly versionLabels: readonly string[];
}

export interface DiscoveredVersion {
  readonly service: string;
  readonly version: string;
  readonly namespace: string;
  /** Ready pods that make it routable (pods of an expired Deployment do not count). */
  readonly readyPods: number;
  /** Ready pods of expired Deployments. */
  readonly expiredPods: number;
  /** The label key its pods carry the version in (routing objects select its pods by it). */
  readonly versionLabel: string;
  /** The earliest expiry among the Deployments that make it, epoch milliseconds. */
  readonly expiresAt: number | undefined;
  /** True when it has no routable pod left because its Deployments expired. */
  readonly expired: boolean;
  /** Names of the Deployments (same namespace) whose pod template makes this version. */
  readonly deployments: readonly string[];
}

export interface DiscoveredService {
  readonly name: string;
  readonly namespace: string;
  /** From the Service's detour.dev/baseline annotation. */
  readonly baseline: string | undefined;
  /** From the Service's detour.dev/miss annotation. */
  readonly miss: MissPolicy | undefined;
  /** Routable versions (at least one Ready pod of a Deployment that has not expired), by name. */
  readonly versions: ReadonlyMap<string, DiscoveredVersion>;
}

/** A Deployment whose expiry has passed: the server reports it (log, metric, Event), never deletes it. */
export interface ExpiredDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly service: string | undefined;
  readonly version: string | undefined;
  readonly expiresAt: number;
}

export interface DiscoveredTopology {
  readonly services: ReadonlyMap<string, DiscoveredService>;
  /** Workload (`service/version`) -> the override text its pod template injects (already valid). */
  readonly injections: ReadonlyMap<string, string>;
  /** Every version seen, routable or expired, sorted by service then version. */
  readonly versions: readonly DiscoveredVersion[];
  readonly expiredDeployments: readonly ExpiredDeployment[];
  readonly problems: readonly TopologyProblem[];
  /** The next future moment (epoch ms) an expiry passes: the topology must be rebuilt then. */
  readonly nextExpiry: number | undefined;
}

export const EMPTY_DISCOVERY: DiscoveredTopology = Object.freeze({
  services: new Map(),
  injections: new Map(),
  versions: [],
  expiredDeployments: [],
  problems: [],
  nextExpiry: undefined,
});

function firstLabel(labels: Readonly<Record<string, string>>, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = labels[key];
    if (value !== undefined && value.length !== 0) return { key, value };
  }
  return undefined;
}

interface VersionBuilder {
  service: string;
  version: string;
  namespace: string;
  readyPods: number;
  expiredPods: number;
  versionLabels: Set<string>;
  expiresAt: number | undefined;
  deployments: string[];
}

/**
 * The topology the cluster shows (pure: the snapshot and the clock in, the topology out):
 * - a version of a service is routable while at least one of its pods is Ready and no expired
 *   Deployment selects that pod (service and version from the configured pod labels);
 * - a Service annotated with detour.dev/baseline makes a service even before any pod is Ready;
 * - a service's baseline and miss policy come from the detour.dev annotations of the Service of
 *   the same name in the namespace its pods run in;
 * - a workload's injection comes from detour.dev/inject on the pod template of its Deployments
 *   (on the pods themselves when no Deployment makes them); disagreeing sources are a conflict
 *   and inject nothing;
 * - one service name in two namespaces is a conflict: neither is discovered.
 */
export function discoverTopology(snapshot: ClusterSnapshot, settings: DiscoverySettings, now: number): DiscoveredTopology {
  const problems: TopologyProblem[] = [];
  const badLabels = new Set<string>();
  const identify = (labels: Readonly<Record<string, string>>, object: string) => {
    const service = firstLabel(labels, settings.serviceLabels);
    const version = firstLabel(labels, settings.versionLabels);
    if (service === undefined || version === undefined) return undefined;
    if (!isValidService(service.value) || !isValidVersion(version.value)) {
      if (!badLabels.has(object)) {
        badLabels.add(object);
        problems.push({
          code: "invalid-label",
          object,
          message: isValidService(service.value)
            ? `version label ${version.key}='${version.value}' is not a detour version: the workload is not discovered`
            : `service label ${service.key}='${service.value}' is not a lower-case DNS label: the workload is not discovered; use the name its Service has`,
        });
      }
      return undefined;
    }
    return { service: service.value, version: version.value, versionLabel: version.key };
  };

  // Deployments: their expiry, the workload their pod template makes, and its injection.
  const expiredByNamespace = new Map<string, { view: DeploymentView; expiresAt: number }[]>();
  const expiredDeployments: ExpiredDeployment[] = [];
  const versions = new Map<string, VersionBuilder>();
  const versionKey = (namespace: string, service: string, version: string) => `${namespace}/${service}/${version}`;
  const builder = (namespace: string, service: string, version: string): VersionBuilder => {
    const key = versionKey(namespace, service, version);
    let found = versions.get(key);
    if (found === undefined) {
      found = { service, version, namespace, readyPods: 0, expiredPods: 0, versionLabels: new Set(), expiresAt: undefined, deployments: [] };
      versions.set(key, found);
    }
    return found;
  };
  /** `namespace/service/version` -> injection sources: the text (undefined: injects nothing) -> the object saying so. */
  const injectionSources = new Map<string, Map<string | undefined, string>>();
  const workloadsWithDeployment = new Set<string>();
  let nextExpiry: number | undefined;
  for (const deployment of snapshot.deployments) {
    const object = objectRef("Deployment", deployment.metadata);
    const expiry = deploymentExpiry(deployment);
    problems.push(...expiry.problems);
    const identity = identify(deployment.template.labels, object);
    const expired = expiry.expiresAt !== undefined && expiry.expiresAt <= now;
    if (expiry.expiresAt !== undefined && !expired) nextExpiry = Math.min(nextExpiry ?? Infinity, expiry.expiresAt);
    if (expired) {
      const list = expiredByNamespace.get(deployment.metadata.namespace) ?? [];
      list.push({ view: deployment, expiresAt: expiry.expiresAt! });
      expiredByNamespace.set(deployment.metadata.namespace, list);
      expiredDeployments.push({
        namespace: deployment.metadata.namespace,
        name: deployment.metadata.name,
        uid: deployment.metadata.uid,
        service: identity?.service,
        version: identity?.version,
        expiresAt: expiry.expiresAt!,
      });
    }
    if (identity === undefined) continue;
    const version = builder(deployment.metadata.namespace, identity.service, identity.version);
    version.deployments.push(deployment.metadata.name);
    if (expiry.expiresAt !== undefined) version.expiresAt = Math.min(version.expiresAt ?? Infinity, expiry.expiresAt);
    const workload = `${identity.service}/${identity.version}`;
    workloadsWithDeployment.add(`${deployment.metadata.namespace}/${workload}`);
    if (!expired) addInjectionSource(injectionSources, `${deployment.metadata.namespace}/${workload}`, deployment.template.annotations[INJECT_ANNOTATION], object);
  }

  // Pods: Ready ones make their version routable unless an expired Deployment selects them.
  const liveWorkloads = new Set<string>();
  for (const pod of snapshot.pods) {
    if (!pod.ready) continue;
    const object = objectRef("Pod", pod.metadata);
    const identity = identify(pod.metadata.labels, object);
    if (identity === undefined) continue;
    const namespace = pod.metadata.namespace;
    const version = builder(namespace, identity.service, identity.version);
    const expiredOwner = expiredByNamespace.get(namespace)?.some((entry) => entry.view.selector !== undefined && selectorMatches(entry.view.selector, pod.metadata.labels));
    if (expiredOwner === true) {
      version.expiredPods++;
      continue;
    }
    version.readyPods++;
    version.versionLabels.add(identity.versionLabel);
    const workload = `${identity.service}/${identity.version}`;
    liveWorkloads.add(`${namespace}/${workload}`);
    if (!workloadsWithDeployment.has(`${namespace}/${workload}`)) addInjectionSource(injectionSources, `${namespace}/${workload}`, pod.metadata.annotations[INJECT_ANNOTATION], object);
  }

  // Services: one namespace per name; baseline and miss policy from the Service's annotations.
  const all = [...versions.values()].filter((version) => version.readyPods + version.expiredPods > 0 || version.deployments.length > 0);
  all.sort((a, b) => (a.service === b.service ? (a.version < b.version ? -1 : a.version > b.version ? 1 : a.namespace < b.namespace ? -1 : 1) : a.service < b.service ? -1 : 1));
  const discovered: DiscoveredVersion[] = all.map((version) => ({
    service: version.service,
    version: version.version,
    namespace: version.namespace,
    readyPods: version.readyPods,
    expiredPods: version.expiredPods,
    versionLabel: settings.versionLabels.find((key) => version.versionLabels.has(key)) ?? settings.versionLabels[0]!,
    expiresAt: version.expiresAt,
    expired: version.readyPods === 0 && version.expiresAt !== undefined && version.expiresAt <= now,
    deployments: version.deployments.sort(),
  }));
  const namespacesOf = new Map<string, Set<string>>();
  for (const version of discovered) {
    if (version.readyPods === 0) continue;
    const set = namespacesOf.get(version.service) ?? new Set<string>();
    set.add(version.namespace);
    namespacesOf.set(version.service, set);
  }
  const serviceObjects = new Map<string, ServiceView>();
  for (const service of snapshot.services) {
    serviceObjects.set(`${service.metadata.namespace}/${service.metadata.name}`, service);
    // A Service that names a baseline declares a detour service, Ready pods or not (yet).
    if (service.metadata.annotations[BASELINE_ANNOTATION] === undefined || !isValidService(service.metadata.name)) continue;
    const set = namespacesOf.get(service.metadata.name) ?? new Set<string>();
    set.add(service.metadata.namespace);
    namespacesOf.set(service.metadata.name, set);
  }
  const services = new Map<string, DiscoveredService>();
  for (const [name, namespaces] of namespacesOf) {
    if (namespaces.size > 1) {
      const list = [...namespaces].sort();
      problems.push({
        code: "service-in-several-namespaces",
        service: name,
        message: `service '${name}' is in namespaces ${list.join(", ")}: a service name means one service, so none of them is discovered; rename one or watch one namespace`,
      });
      continue;
    }
    const namespace = [...namespaces][0]!;
    const serviceObject = serviceObjects.get(`${namespace}/${name}`);
    const annotations = serviceObject?.metadata.annotations ?? {};
    const object = objectRef("Service", { namespace, name });
    let baseline = annotations[BASELINE_ANNOTATION]?.trim();
    if (baseline !== undefined && !isValidVersion(baseline)) {
      problems.push({ code: "invalid-annotation", object, service: name, message: `${BASELINE_ANNOTATION} '${baseline}' is not a version: it names no baseline` });
      baseline = undefined;
    }
    let miss: MissPolicy | undefined;
    const missText = annotations[MISS_ANNOTATION]?.trim();
    if (missText === "fallback" || missText === "reject") miss = missText;
    else if (missText !== undefined) problems.push({ code: "invalid-annotation", object, service: name, message: `${MISS_ANNOTATION} '${missText}' is neither fallback nor reject: the default applies` });
    const live = new Map<string, DiscoveredVersion>();
    for (const version of discovered) if (version.service === name && version.namespace === namespace && version.readyPods > 0) live.set(version.version, version);
    services.set(name, { name, namespace, baseline, miss, versions: live });
  }

  // Injections of live workloads; disagreeing sources inject nothing.
  const injections = new Map<string, string>();
  for (const [key, sources] of injectionSources) {
    const [namespace, service, version] = key.split("/") as [string, string, string];
    const workload = `${service}/${version}`;
    if (!liveWorkloads.has(key) || services.get(service)?.namespace !== namespace) continue;
    if (sources.size > 1) {
      const said = [...sources].map(([value, object]) => `${object} says ${value === undefined ? "nothing" : `'${value}'`}`).join(", ");
      problems.push({ code: "inject-disagrees", service, version, message: `workload ${workload}: ${said}: it injects nothing until they agree` });
      continue;
    }
    const [value, object] = [...sources][0]!;
    if (value === undefined) continue;
    const parsed = parseOverrides(value, { strict: false });
    if (parsed.problems.length !== 0 || parsed.set.isEmpty) {
      problems.push({ code: "invalid-annotation", object, message: `${INJECT_ANNOTATION} '${value}' is not an override (x-detour syntax, e.g. *=pr-7): it injects nothing` });
      continue;
    }
    injections.set(workload, value);
  }

  return { services, injections, versions: discovered, expiredDeployments, problems, nextExpiry };
}

function addInjectionSource(sources: Map<string, Map<string | undefined, string>>, key: string, value: string | undefined, object: string): void {
  let values = sources.get(key);
  if (values === undefined) {
    values = new Map();
    sources.set(key, values);
  }
  const text = value?.trim();
  if (!values.has(text)) values.set(text, object);
}
