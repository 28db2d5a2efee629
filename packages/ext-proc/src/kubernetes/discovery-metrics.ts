import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { TOPOLOGY_PROBLEM_CODES, type TopologyProblem } from "./topology-problem.js";

/** What discovery shows Prometheus (docs/operations.md lists them with alert suggestions). */
export interface DiscoveryMetrics {
  /** After each rebuild: how many versions are routable and how many are expired but still deployed. */
  setVersions(routable: number, expired: number): void;
  setProblems(problems: readonly TopologyProblem[]): void;
  recordRebuild(seconds: number): void;
  recordExpiry(service: string): void;
  recordWatchFailure(kind: string): void;
  recordWrite(kind: string, result: "applied" | "unchanged" | "failed" | "refused"): void;
  setLeader(leading: boolean): void;
}

export interface DiscoveryMetricsSource {
  /** Epoch milliseconds since when a watch is down, undefined while all are up. */
  staleSince(): number | undefined;
}

export function createDiscoveryMetrics(registry: Registry, source: DiscoveryMetricsSource): DiscoveryMetrics {
  const versions = new Gauge({
    name: "detour_ext_proc_kubernetes_versions",
    help: "discovered versions by state: routable (Ready pods of a Deployment that has not expired) or expired (Deployment expired, still deployed)",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "detour_ext_proc_kubernetes_topology_stale",
    help: "1 while a watch of the API server is down: decisions use the last topology seen",
    registers: [registry],
    collect() {
      this.set(source.staleSince() === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: "detour_ext_proc_kubernetes_topology_stale_seconds",
    help: "how long the topology has been stale (0 while every watch is up)",
    registers: [registry],
    collect() {
      const since = source.staleSince();
      this.set(since === undefined ? 0 : (Date.now() - since) / 1000);
    },
  });
  const problems = new Gauge({
    name: "detour_ext_proc_kubernetes_topology_problems",
    help: "conflicts and unreadable labels or annotations in the last topology built, by code (GET /status lists them)",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const rebuilds = new Histogram({
    name: "detour_ext_proc_kubernetes_rebuild_seconds",
    help: "time to rebuild the routing table from the watched objects",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const expirations = new Counter({
    name: "detour_ext_proc_kubernetes_expirations_total",
    help: "Deployments seen expiring (detour.dev/expires-at or detour.dev/ttl passed) by service: their version is no longer routable",
    labelNames: ["service"] as const,
    registers: [registry],
  });
  const watchFailures = new Counter({
    name: "detour_ext_proc_kubernetes_watch_failures_total",
    help: "failed lists or watches of the API server by kind (each is retried)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const writes = new Counter({
    name: "detour_ext_proc_kubernetes_writes_total",
    help: "writes of the elected replica by kind (DestinationRule, VirtualService, Event) and result (applied, unchanged, failed, refused: not detour's object)",
    labelNames: ["kind", "result"] as const,
    registers: [registry],
  });
  const leader = new Gauge({
    name: "detour_ext_proc_kubernetes_leader",
    help: "1 while this replica holds the Lease and writes routing objects and Events",
    registers: [registry],
  });
  for (const code of TOPOLOGY_PROBLEM_CODES) problems.set({ code }, 0);
  leader.set(0);

  return {
    setVersions(routable, expired) {
      versions.set({ state: "routable" }, routable);
      versions.set({ state: "expired" }, expired);
    },
    setProblems(list) {
      const counts = new Map<string, number>(TOPOLOGY_PROBLEM_CODES.map((code) => [code, 0]));
      for (const problem of list) counts.set(problem.code, (counts.get(problem.code) ?? 0) + 1);
      for (const [code, count] of counts) problems.set({ code }, count);
    },
    recordRebuild: (seconds) => rebuilds.observe(seconds),
    recordExpiry: (service) => expirations.inc({ service }),
    recordWatchFailure: (kind) => watchFailures.inc({ kind }),
    recordWrite: (kind, result) => writes.inc({ kind, result }),
    setLeader: (leading) => leader.set(leading ? 1 : 0),
  };
}
