import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { DetourConfig } from "../config/detour-config-schema.js";
import type { KubernetesConfig } from "../config/kubernetes-config-schema.js";
import { TOPOLOGY_SETTLE_MS } from "../constants.js";
import type { ExtProcServer } from "../server/create-ext-proc-server.js";
import type { KubernetesSourceStatus, TopologySource } from "../server/topology-status.js";
import { discoverTopology, EMPTY_DISCOVERY, type ClusterSnapshot, type DiscoveredTopology, type ExpiredDeployment } from "./discovered-topology.js";
import { createDiscoveryMetrics, type DiscoveryMetrics } from "./discovery-metrics.js";
import { describeDiscovery } from "./discovery-status.js";
import { ownedLabels } from "./detour-ownership.js";
import { expiryEvent } from "./expiry-event.js";
import { DetourKubernetesApi, failureMessage, kubeConfigFromSection, ownNamespace } from "./kubernetes-api.js";
import { LeaseElector } from "./lease-elector.js";
import { mergeTopology } from "./merged-topology.js";
import { deploymentView, podView, serviceView, type DeploymentView, type PodView, type ServiceView } from "./object-views.js";
import { ResourceWatch } from "./resource-watch.js";
import { problemKey, type TopologyProblem } from "./topology-problem.js";

/** New problems logged per rebuild; the rest are counted (metric) and listed (GET /status). */
const LOGGED_PROBLEMS_PER_REBUILD = 20;
/**
 * Longest single wait for the next expiry: Node's timers overflow above 2^31-1 ms (~24.8 days)
 * and would fire at once; a far expiry is simply looked at again after this long.
 */
const LONGEST_EXPIRY_WAIT_MS = 3_600_000;

export interface KubernetesDiscoveryOptions {
  readonly server: ExtProcServer;
  readonly section: KubernetesConfig;
  /** Folder a relative kubernetes.kubeconfig resolves against (the config file's). */
  readonly baseDir: string;
  readonly logger: Logger;
}

export interface KubernetesDiscovery {
  readonly source: TopologySource;
  /** Whether this replica holds the Lease. */
  readonly leading: boolean;
  /** Stops watching; a leader releases the Lease. */
  stop(): Promise<void>;
}

/** Extra work the replica holding the Lease does; the routing-object writer plugs in here. */
export interface LeaderWork {
  start(): void;
  stop(): void;
  /** Called after every rebuild while leading, and once when leading starts. */
  topologyChanged(config: DetourConfig, discovered: DiscoveredTopology): void;
}

/** What the Lease holder's work is given. */
export interface LeaderWorkContext {
  readonly api: DetourKubernetesApi;
  readonly metrics: DiscoveryMetrics;
  readonly log: Logger;
}

/** The identity of this replica in the Lease and in Events: the pod's name and a random part (a restarted pod is a new candidate). */
function replicaIdentity(): string {
  return `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString("hex")}`;
}

interface WatchedKind<T> {
  readonly kind: string;
  readonly path: (namespace: string) => string;
  readonly project: (object: unknown) => T;
}

const PODS: WatchedKind<PodView> = { kind: "Pod", path: (namespace) => `/api/v1/namespaces/${namespace}/pods`, project: podView };
const SERVICES: WatchedKind<ServiceView> = { kind: "Service", path: (namespace) => `/api/v1/namespaces/${namespace}/services`, project: serviceView };
const DEPLOYMENTS: WatchedKind<DeploymentView> = { kind: "Deployment", path: (namespace) => `/apis/apps/v1/namespaces/${namespace}/deployments`, project: deploymentView };

/**
 * Reads the topology from the cluster (docs/kubernetes.md, Discovery): one informer per watched
 * namespace for Pods (versions and readiness), Services (baseline and miss annotations) and
 * Deployments (expiry, injection). Every change rebuilds the discovered topology, merges it into
 * the config and swaps the server's routing table whole; decisions never wait on the API server.
 * A watch that fails is retried and the last topology stays in force (stale: metric, /readyz
 * note). The replica holding the Lease reports expiries as Events and runs `leaderWork`.
 */
export function startKubernetesDiscovery(options: KubernetesDiscoveryOptions, leaderWork?: (context: LeaderWorkContext) => LeaderWork): KubernetesDiscovery {
  const { server, section, logger } = options;
  const kubeConfig = kubeConfigFromSection(section, options.baseDir);
  const api = DetourKubernetesApi.fromKubeConfig(kubeConfig);
  const identity = replicaIdentity();
  const log = logger.child({ component: "kubernetes" });
  const started = performance.now();

  let discovered: DiscoveredTopology = EMPTY_DISCOVERY;
  let problems: readonly TopologyProblem[] = [];
  const knownProblems = new Set<string>();
  const reportedExpiries = new Set<string>();
  let staleSince: number | undefined;
  const failures = new Map<string, string>();
  let allSynced = false;
  let stopped = false;
  let settleTimer: NodeJS.Timeout | undefined;
  let lastRebuildMs = 0;
  // One settings object for the life of the watch: discoverTopology remembers per object what it says, per settings.
  const settings = { serviceLabels: section.serviceLabels, versionLabels: section.versionLabels };
  let expiryTimer: NodeJS.Timeout | undefined;
  const metrics = createDiscoveryMetrics(server.metrics.registry, { staleSince: () => staleSince });

  const watches: { kind: string; namespace: string; watch: ResourceWatch<PodView | ServiceView | DeploymentView> }[] = [];
  const snapshot: ClusterSnapshot = {
    pods: { [Symbol.iterator]: () => listed<PodView>("Pod") },
    services: { [Symbol.iterator]: () => listed<ServiceView>("Service") },
    deployments: { [Symbol.iterator]: () => listed<DeploymentView>("Deployment") },
  };
  function* listed<T>(kind: string): Iterator<T> {
    for (const entry of watches) if (entry.kind === kind) yield* entry.watch.list() as unknown as T[];
  }

  const source: TopologySource = {
    merge(config: DetourConfig): DetourConfig {
      const merged = mergeTopology(config, discovered);
      problems = merged.problems;
      return merged.config;
    },
    get synced() {
      return allSynced;
    },
    describe(status, counts) {
      return describeDiscovery(status, counts, { staticConfig: server.config, discovered, problems, kubernetes: sourceStatus() });
    },
    readinessNotes() {
      const notes: string[] = [];
      if (!allSynced) {
        const waiting = watches.filter((entry) => !entry.watch.synced).map((entry) => `${entry.kind}s in ${entry.namespace}`);
        notes.push(`waiting for the first list from the API server: ${waiting.join(", ")}`);
      }
      if (staleSince !== undefined) notes.push(`kubernetes topology stale since ${new Date(staleSince).toISOString()} (a watch of the API server is down): decisions use the last topology seen`);
      for (const [what, problem] of failures) notes.push(`${what}: ${problem}`);
      if (problems.length !== 0) notes.push(`${problems.length} topology problem(s): see GET /status`);
      return notes;
    },
  };

  function sourceStatus(): KubernetesSourceStatus {
    return {
      namespaces: section.namespaces,
      synced: allSynced,
      stale: staleSince !== undefined,
      ...(staleSince === undefined ? {} : { staleSince: new Date(staleSince).toISOString() }),
      leader: elector.leading,
      identity,
      routingObjects: section.routingObjects,
    };
  }

  function scheduleRebuild(): void {
    if (stopped || settleTimer !== undefined) return;
    // While changes keep coming, at most half the time goes to rebuilding: the rest is the decisions'.
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      rebuild();
    }, Math.max(TOPOLOGY_SETTLE_MS, lastRebuildMs));
  }

  function rebuild(): void {
    if (stopped) return;
    if (!allSynced) {
      if (!watches.every((entry) => entry.watch.synced)) return;
      allSynced = true;
      log.info({ namespaces: section.namespaces, ms: Math.round(performance.now() - started) }, "kubernetes topology synced");
    }
    clearTimeout(expiryTimer);
    const began = performance.now();
    discovered = discoverTopology(snapshot, settings, Date.now());
    server.refreshTopology();
    lastRebuildMs = performance.now() - began;
    metrics.recordRebuild(lastRebuildMs / 1000);
    const routable = discovered.versions.filter((version) => version.readyPods > 0).length;
    metrics.setVersions(routable, discovered.versions.filter((version) => version.expired).length);
    metrics.setProblems(problems);
    logNewProblems();
    reportExpiries(discovered.expiredDeployments);
    if (discovered.nextExpiry !== undefined) {
      expiryTimer = setTimeout(rebuild, Math.min(Math.max(0, discovered.nextExpiry - Date.now()), LONGEST_EXPIRY_WAIT_MS));
    }
    if (elector.leading) work?.topologyChanged(server.routingTable.config, discovered);
    log.debug({ services: server.routingTable.services.size, discoveredVersions: routable, ms: performance.now() - began }, "routing table rebuilt from the cluster");
  }

  function logNewProblems(): void {
    const current = new Set<string>();
    let logged = 0;
    for (const problem of problems) {
      const key = problemKey(problem);
      current.add(key);
      if (knownProblems.has(key)) continue;
      if (logged++ < LOGGED_PROBLEMS_PER_REBUILD) log.warn({ code: problem.code, service: problem.service, version: problem.version, object: problem.object, problem: problem.message }, "topology problem");
    }
    if (logged > LOGGED_PROBLEMS_PER_REBUILD) log.warn({ more: logged - LOGGED_PROBLEMS_PER_REBUILD }, "more topology problems: see GET /status");
    knownProblems.clear();
    for (const key of current) knownProblems.add(key);
  }

  function reportExpiries(expired: readonly ExpiredDeployment[]): void {
    for (const deployment of expired) {
      const key = `${deployment.uid}@${deployment.expiresAt}`;
      if (reportedExpiries.has(key)) continue;
      reportedExpiries.add(key);
      log.info(
        { namespace: deployment.namespace, deployment: deployment.name, service: deployment.service, version: deployment.version, expiresAt: new Date(deployment.expiresAt).toISOString() },
        "version expired: no longer routable; the Deployment stays",
      );
      if (deployment.service !== undefined) metrics.recordExpiry(deployment.service);
      if (elector.leading) void writeExpiryEvent(deployment);
    }
  }

  async function writeExpiryEvent(deployment: ExpiredDeployment): Promise<void> {
    try {
      const created = await api.createRaw(expiryEvent(deployment, identity, Date.now()));
      metrics.recordWrite("Event", created ? "applied" : "unchanged");
    } catch (error) {
      metrics.recordWrite("Event", "failed");
      log.warn({ namespace: deployment.namespace, deployment: deployment.name, problem: failureMessage(error) }, "could not write the expiry Event");
    }
  }

  function watchHealth(kind: string, namespace: string, error: unknown): void {
    const what = `${kind}s in ${namespace}`;
    if (error === undefined) {
      failures.delete(what);
      if (failures.size === 0 && staleSince !== undefined) {
        log.info({ staleSeconds: (Date.now() - staleSince) / 1000 }, "kubernetes watches resumed: topology current again");
        staleSince = undefined;
      }
      scheduleRebuild();
      return;
    }
    metrics.recordWatchFailure(kind);
    failures.set(what, failureMessage(error));
    if (staleSince === undefined && allSynced) {
      staleSince = Date.now();
      log.warn({ watch: what, problem: failureMessage(error) }, "kubernetes watch failed: decisions continue on the last topology seen; retrying");
    } else if (!allSynced) {
      log.warn({ watch: what, problem: failureMessage(error) }, "cannot list from the API server yet; retrying");
    }
  }

  const work = leaderWork?.({ api, metrics, log });
  const electionNamespace = section.leaderElection.namespace ?? ownNamespace() ?? section.namespaces[0]!;
  const elector = new LeaseElector({
    store: api,
    namespace: electionNamespace,
    identity,
    settings: section.leaderElection,
    labels: ownedLabels("ext-proc"),
    logger: log,
    onStartedLeading() {
      metrics.setLeader(true);
      log.info({ identity, lease: `${electionNamespace}/${section.leaderElection.lease}` }, "leading: this replica writes routing objects and Events");
      work?.start();
      if (allSynced) {
        for (const deployment of discovered.expiredDeployments) void writeExpiryEvent(deployment);
        work?.topologyChanged(server.routingTable.config, discovered);
      }
    },
    onStoppedLeading() {
      metrics.setLeader(false);
      log.info({ identity }, "no longer leading: this replica stops writing");
      work?.stop();
    },
  });

  for (const namespace of section.namespaces) {
    for (const kind of [PODS, SERVICES, DEPLOYMENTS] as WatchedKind<PodView | ServiceView | DeploymentView>[]) {
      const watch = new ResourceWatch({
        kubeConfig,
        api,
        path: kind.path(namespace),
        project: kind.project,
        onChange: scheduleRebuild,
        onHealth: (error) => watchHealth(kind.kind, namespace, error),
      });
      watches.push({ kind: kind.kind, namespace, watch });
    }
  }
  server.setTopologySource(source);
  for (const entry of watches) void entry.watch.start();
  elector.start();
  log.info({ namespaces: section.namespaces, identity, lease: `${electionNamespace}/${section.leaderElection.lease}`, routingObjects: section.routingObjects }, "watching the cluster for versions");

  return {
    source,
    get leading() {
      return elector.leading;
    },
    async stop() {
      stopped = true;
      clearTimeout(settleTimer);
      clearTimeout(expiryTimer);
      await elector.stop();
      await Promise.all(watches.map((entry) => entry.watch.stop()));
    },
  };
}
