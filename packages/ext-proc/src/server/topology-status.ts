import type { DetourConfig, MissPolicy } from "../config/detour-config-schema.js";
import type { RoutingTable } from "../decision/routing-table.js";

/*
 * What `GET /topology` on the operations port answers (docs/operations.md): the services and
 * versions the routing table holds right now, where each came from, and for discovered ones
 * their pods and expiry; requested/applied counts per version; the topology source's health and
 * problems. `detour sandbox list` reads it.
 */

/** Where a service or version comes from: detour.yaml, the cluster, or both. */
export type TopologyOrigin = "static" | "discovered" | "static+discovered";

export interface VersionStatus {
  readonly name: string;
  readonly origin: TopologyOrigin;
  /** In the routing table now: a request naming it is routed to it. */
  readonly routable: boolean;
  /** Ready pods that make it routable (discovered versions). */
  readonly readyPods?: number;
  /** RFC 3339: when it stops being routable (discovered versions whose Deployment sets an expiry). */
  readonly expiresAt?: string;
  readonly expired?: boolean;
  /** Deployments (same namespace) that make it. */
  readonly deployments?: readonly string[];
  /** Decisions that named this version for this service, since the server started. */
  readonly requested: number;
  /** Decisions routed to it. */
  readonly applied: number;
}

export interface ServiceStatus {
  readonly name: string;
  readonly origin: TopologyOrigin;
  /** Namespace its pods run in (discovered services). */
  readonly namespace?: string;
  readonly baseline: string;
  readonly miss: MissPolicy;
  readonly versions: readonly VersionStatus[];
}

export interface TopologyProblemStatus {
  readonly code: string;
  readonly message: string;
  readonly service?: string;
  readonly version?: string;
  readonly object?: string;
}

export interface KubernetesSourceStatus {
  readonly namespaces: readonly string[];
  /** The first complete list of every watched kind has arrived. */
  readonly synced: boolean;
  /** A watch is down: decisions use the last topology seen. */
  readonly stale: boolean;
  /** RFC 3339: since when (while stale). */
  readonly staleSince?: string;
  /** This replica holds the Lease and writes (routing objects, Events). */
  readonly leader: boolean;
  readonly identity: string;
  readonly routingObjects: string;
}

export interface TopologyStatus {
  readonly source: "static" | "kubernetes";
  readonly generatedAt: string;
  readonly kubernetes?: KubernetesSourceStatus;
  readonly services: readonly ServiceStatus[];
  /** Conflicts and unreadable input, at most LISTED_PROBLEMS_LIMIT of them. */
  readonly problems: readonly TopologyProblemStatus[];
  readonly problemCount: number;
}

/** requested/applied decisions per service and version. */
export type VersionCounts = ReadonlyMap<string, ReadonlyMap<string, { readonly requested: number; readonly applied: number }>>;

/**
 * A live topology between the config file and the routing table (Kubernetes discovery). The
 * server builds its routing table from `merge(config)` at start, on every config reload and
 * whenever the source calls refreshTopology().
 */
export interface TopologySource {
  /** `config` with the source's topology merged in. Pure and synchronous. */
  merge(config: DetourConfig): DetourConfig;
  /** False until the source has its first complete view; /readyz answers 503 until then. */
  readonly synced: boolean;
  /** Adds what the source knows (origins, pods, expiry, problems, its health) to the status. */
  describe(status: TopologyStatus, counts: VersionCounts): TopologyStatus;
  /** Lines /readyz adds below "ready" (a stale topology, conflicts); empty when all is well. */
  readinessNotes(): readonly string[];
}

/** The counts of one version (zero when never requested). */
export function countedDecisions(counts: VersionCounts, service: string, version: string): { requested: number; applied: number } {
  const entry = counts.get(service)?.get(version);
  return { requested: entry?.requested ?? 0, applied: entry?.applied ?? 0 };
}

/** The status of the routing table in force, every service and version from detour.yaml. */
export function staticTopologyStatus(table: RoutingTable, counts: VersionCounts, now = Date.now()): TopologyStatus {
  const services: ServiceStatus[] = [...table.services.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((routes) => ({
      name: routes.name,
      origin: "static",
      baseline: routes.baseline,
      miss: routes.miss,
      versions: [...routes.versions].sort().map((name) => ({ name, origin: "static", routable: true, ...countedDecisions(counts, routes.name, name) })),
    }));
  return { source: "static", generatedAt: new Date(now).toISOString(), services, problems: [], problemCount: 0 };
}
