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

/** Which workload an object's labels name. */
interface Identity {
  readonly service: string;
  readonly version: string;
  readonly versionLabel: string;
  /** `namespace/service/version`. */
  readonly key: string;
}

/** What one object says, worked out once per object: the informers replace an object's view when it changes, never edit it. */
interface Derived {
  readonly object: string;
  readonly identity: Identity | undefined;
  readonly problems: readonly TopologyProblem[];
  /** Deployments: when their version stops being routable. */
  readonly expiresAt: number | undefined;
}

const derivedBySettings = new WeakMap<DiscoverySettings, WeakMap<object, Derived>>();

function derive(kind: "Pod" | "Deployment", view: PodView | DeploymentView, settings: DiscoverySettings): Derived {
  let cache = derivedBySettings.get(settings);
  if (cache === undefined) derivedBySettings.set(settings, (cache = new WeakMap()));
  const cached = cache.get(view);
  if (cached !== undefined) return cached;
  const object = objectRef(kind, view.metadata);
  const labels = view.kind === "Deployment" ? view.template.labels : view.metadata.labels;
  const problems: TopologyProblem[] = [];
  let expiresAt: number | undefined;
  if (view.kind === "Deployment") {
    const expiry = deploymentExpiry(view);
    expiresAt = expiry.expiresAt;
    problems.push(...expiry.problems);
  }
  let identity: Identity | undefined;
  const service = firstLabel(labels, settings.serviceLabels);
  const version = firstLabel(labels, settings.versionLabels);
  if (service !== undefined && version !== undefined) {
    if (isValidService(service.value) && isValidVersion(version.value)) {
      identity = { service: service.value, version: version.value, versionLabel: version.key, key: `${view.metadata.namespace}/${service.value}/${version.value}` };
    } else {
      problems.push({
        code: "invalid-label",
        object,
        message: isValidService(service.value)
          ? `version label ${version.key}='${version.value}' is not a detour version: the workload is not discovered`
          : `service label ${service.key}='${service.value}' is not a lower-case DNS label: the workload is not discovered; use the name its Service has`,
      });
    }
  }
  const derived = { object, identity, problems, expiresAt };
  cache.set(view, derived);
  return derived;
}

/** The injection sources of one workload: the first seen, and any that say something else. */
interface InjectionSources {
  readonly value: string | undefined;
  readonly object: string;
  others?: Map<string | undefined, string>;
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
 * What each object says is worked out once per object version and remembered, so a rebuild
 * after one change costs a walk over the objects, not a re-reading of each.
 */
export function discoverTopology(snapshot: ClusterSnapshot, settings: DiscoverySettings, now: number): DiscoveredTopology {
  const problems: TopologyProblem[] = [];

  // Deployments: their expiry, the workload their pod template makes, and its injection.
  const expiredByNamespace = new Map<string, DeploymentView[]>();
  const expiredDeployments: ExpiredDeployment[] = [];
  const versions = new Map<string, VersionBuilder>();
  const builder = (namespace: string, identity: Identity): VersionBuilder => {
    let found = versions.get(identity.key);
    if (found === undefined) {
      found = { service: identity.service, version: identity.version, namespace, readyPods: 0, expiredPods: 0, versionLabels: new Set(), expiresAt: undefined, deployments: [] };
      versions.set(identity.key, found);
    }
    return found;
  };
  /** `namespace/service/version` -> what its sources inject. */
  const injectionSources = new Map<string, InjectionSources>();
  const workloadsWithDeployment = new Set<string>();
  let nextExpiry: number | undefined;
  for (const deployment of snapshot.deployments) {
    const derived = derive("Deployment", deployment, settings);
    for (const problem of derived.problems) problems.push(problem);
    const { identity, expiresAt } = derived;
    const expired = expiresAt !== undefined && expiresAt <= now;
    if (expiresAt !== undefined && !expired && (nextExpiry === undefined || expiresAt < nextExpiry)) nextExpiry = expiresAt;
    if (expired) {
      let list = expiredByNamespace.get(deployment.metadata.namespace);
      if (list === undefined) expiredByNamespace.set(deployment.metadata.namespace, (list = []));
      list.push(deployment);
      expiredDeployments.push({
        namespace: deployment.metadata.namespace,
        name: deployment.metadata.name,
        uid: deployment.metadata.uid,
        service: identity?.service,
        version: identity?.version,
        expiresAt,
      });
    }
    if (identity === undefined) continue;
    const version = builder(deployment.metadata.namespace, identity);
    version.deployments.push(deployment.metadata.name);
    if (expiresAt !== undefined && (version.expiresAt === undefined || expiresAt < version.expiresAt)) version.expiresAt = expiresAt;
    workloadsWithDeployment.add(identity.key);
    if (!expired) addInjectionSource(injectionSources, identity.key, deployment.template.annotations[INJECT_ANNOTATION], derived.object);
  }

  // Pods: Ready ones make their version routable unless an expired Deployment selects them.
  const liveWorkloads = new Set<string>();
  for (const pod of snapshot.pods) {
    if (!pod.ready) continue;
    const derived = derive("Pod", pod, settings);
    for (const problem of derived.problems) problems.push(problem);
    const identity = derived.identity;
    if (identity === undefined) continue;
    const namespace = pod.metadata.namespace;
    const version = builder(namespace, identity);
    const expired = expiredByNamespace.get(namespace);
    if (expired !== undefined && expired.some((deployment) => deployment.selector !== undefined && selectorMatches(deployment.selector, pod.metadata.labels))) {
      version.expiredPods++;
      continue;
    }
    version.readyPods++;
    version.versionLabels.add(identity.versionLabel);
    liveWorkloads.add(identity.key);
    if (!workloadsWithDeployment.has(identity.key)) addInjectionSource(injectionSources, identity.key, pod.metadata.annotations[INJECT_ANNOTATION], derived.object);
  }

  // Services: one namespace per name; baseline and miss policy from the Service's annotations.
  const all = [...versions.values()].filter((version) => version.readyPods + version.expiredPods > 0 || version.deployments.length > 0);
  const order = (version: VersionBuilder) => `${version.service}\u0000${version.version}\u0000${version.namespace}`;
  const keyed = all.map((version) => ({ version, key: order(version) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const discovered: DiscoveredVersion[] = keyed.map(({ version }) => ({
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
  /** `namespace/service` -> its routable versions. */
  const liveVersions = new Map<string, Map<string, DiscoveredVersion>>();
  for (const version of discovered) {
    if (version.readyPods === 0) continue;
    const set = namespacesOf.get(version.service) ?? new Set<string>();
    set.add(version.namespace);
    namespacesOf.set(version.service, set);
    const key = `${version.namespace}/${version.service}`;
    let live = liveVersions.get(key);
    if (live === undefined) liveVersions.set(key, (live = new Map()));
    live.set(version.version, version);
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
    services.set(name, { name, namespace, baseline, miss, versions: liveVersions.get(`${namespace}/${name}`) ?? new Map() });
  }

  // Injections of live workloads; disagreeing sources inject nothing.
  const injections = new Map<string, string>();
  for (const [key, sources] of injectionSources) {
    if (sources.others === undefined && sources.value === undefined) continue;
    const [namespace, service, version] = key.split("/") as [string, string, string];
    const workload = `${service}/${version}`;
    if (!liveWorkloads.has(key) || services.get(service)?.namespace !== namespace) continue;
    if (sources.others !== undefined) {
      const said = [[sources.value, sources.object] as const, ...sources.others].map(([value, object]) => `${object} says ${value === undefined ? "nothing" : `'${value}'`}`).join(", ");
      problems.push({ code: "inject-disagrees", service, version, message: `workload ${workload}: ${said}: it injects nothing until they agree` });
      continue;
    }
    const value = sources.value!;
    const parsed = parseOverrides(value, { strict: false });
    if (parsed.problems.length !== 0 || parsed.set.isEmpty) {
      problems.push({ code: "invalid-annotation", object: sources.object, message: `${INJECT_ANNOTATION} '${value}' is not an override (x-detour syntax, e.g. *=pr-7): it injects nothing` });
      continue;
    }
    injections.set(workload, value);
  }

  return { services, injections, versions: discovered, expiredDeployments, problems, nextExpiry };
}

function addInjectionSource(sources: Map<string, InjectionSources>, key: string, value: string | undefined, object: string): void {
  const text = value?.trim();
  const found = sources.get(key);
  if (found === undefined) {
    sources.set(key, { value: text, object });
    return;
  }
  if (found.value === text || found.others?.has(text) === true) return;
  (found.others ??= new Map()).set(text, object);
}
