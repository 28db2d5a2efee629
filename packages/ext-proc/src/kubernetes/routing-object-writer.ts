import { isDeepStrictEqual } from "node:util";
import type { DetourConfig } from "../config/detour-config-schema.js";
import type { KubernetesConfig } from "../config/kubernetes-config-schema.js";
import type { DiscoveredTopology } from "./discovered-topology.js";
import { isDetourOwned, type KubernetesObject } from "./detour-ownership.js";
import { failureMessage } from "./kubernetes-api.js";
import type { LeaderWork, LeaderWorkContext } from "./kubernetes-discovery.js";
import { destinationRule, virtualService, type ServiceRouting } from "./routing-objects.js";
import { versionLabelValue } from "./routing-names.js";

/** Services written at once: enough to get 500 services in step within seconds, few enough not to crowd the API server. */
const WRITE_CONCURRENCY = 4;
/** Every object is looked at again this often, so a change someone made by hand is put back. */
const RESYNC_MS = 300_000;
/** Retry delays of a service whose write failed: doubling from the first to the last. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

type Spec = { subsets?: { name?: string }[] } & Record<string, unknown>;
type StoredObject = KubernetesObject & { spec?: Spec; metadata: KubernetesObject["metadata"] & { labels?: Record<string, string> } };

/**
 * The routing of every discovered service in the routing table: its versions (the table's, plus
 * the baseline, which must have a subset even before its pods are Ready), each selected by the
 * label key its pods carry the version in. Versions that cannot be a label value are left out
 * (their requests take the baseline route) and named in `skipped`.
 */
export function desiredRouting(config: DetourConfig, discovered: DiscoveredTopology, section: KubernetesConfig): { routing: ServiceRouting[]; skipped: string[] } {
  const routing: ServiceRouting[] = [];
  const skipped: string[] = [];
  for (const [name, found] of discovered.services) {
    const spec = config.services[name];
    if (spec === undefined) continue;
    const names = [...new Set([...Object.keys(spec.versions), spec.baseline])].sort();
    const versions: ServiceRouting["versions"][number][] = [];
    for (const version of names) {
      const label = found.versions.get(version)?.versionLabel ?? section.versionLabels[0]!;
      try {
        versions.push({ name: version, selector: { [label]: versionLabelValue(name, version, label) } });
      } catch {
        skipped.push(`${name}/${version}`);
      }
    }
    routing.push({ service: name, namespace: found.namespace, clusterDomain: section.clusterDomain, baseline: spec.baseline, versions });
  }
  return { routing, skipped };
}

/**
 * Keeps each discovered service's DestinationRule and VirtualService (the objects `detour
 * kubernetes` renders, built by the same functions) in step with its versions, while this
 * replica holds the Lease. Server-side apply with field manager `detour`, forced: these objects
 * are detour's (they carry its ownership mark) and this is detour's one writer. An object of that
 * name without the mark is someone else's: never changed, reported instead. A new version's
 * subset is written before the route that sends requests to it; a removed version's route goes
 * before its subset, so Istio never routes to a subset that does not exist. Writes run beside
 * the decisions, never in their way: a failed write is retried with a growing delay.
 */
export class RoutingObjectWriter implements LeaderWork {
  private active = false;
  private readonly desired = new Map<string, ServiceRouting>();
  /** The routing last written per service (what the cluster holds, as far as this replica knows). */
  private readonly written = new Map<string, ServiceRouting>();
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, { delayMs: number; timer: NodeJS.Timeout }>();
  private readonly refused = new Set<string>();
  private running = 0;
  private resyncTimer: NodeJS.Timeout | undefined;
  private reportedSkips = new Set<string>();

  constructor(
    private readonly section: KubernetesConfig,
    private readonly context: LeaderWorkContext,
  ) {}

  start(): void {
    this.active = true;
    // A new leader knows nothing of what is in the cluster: it looks at every object again.
    this.written.clear();
    this.refused.clear();
    this.resyncTimer = setInterval(() => this.resync(), RESYNC_MS);
    this.resyncTimer.unref();
  }

  stop(): void {
    this.active = false;
    clearInterval(this.resyncTimer);
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    this.queue.clear();
  }

  /** No write is queued or running. */
  get idle(): boolean {
    return this.queue.size === 0 && this.running === 0;
  }

  topologyChanged(config: DetourConfig, discovered: DiscoveredTopology): void {
    const { routing, skipped } = desiredRouting(config, discovered, this.section);
    for (const workload of skipped) {
      if (this.reportedSkips.has(workload)) continue;
      this.reportedSkips.add(workload);
      this.context.log.warn({ workload }, "version cannot be a pod label value: no subset or route is written for it (its requests take the baseline route)");
    }
    this.desired.clear();
    for (const entry of routing) {
      this.desired.set(entry.service, entry);
      if (!isDeepStrictEqual(this.written.get(entry.service), entry)) this.enqueue(entry.service);
    }
  }

  private resync(): void {
    this.written.clear();
    this.refused.clear();
    for (const service of this.desired.keys()) this.enqueue(service);
  }

  private enqueue(service: string): void {
    if (!this.active || this.retries.has(service)) return;
    this.queue.add(service);
    this.pump();
  }

  private pump(): void {
    while (this.active && this.running < WRITE_CONCURRENCY && this.queue.size !== 0) {
      const service = this.queue.values().next().value!;
      this.queue.delete(service);
      this.running++;
      void this.write(service).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async write(service: string): Promise<void> {
    const routing = this.desired.get(service);
    if (routing === undefined || this.refused.has(service)) return;
    const { api, metrics, log } = this.context;
    const rule = destinationRule(routing);
    const routes = virtualService(routing);
    try {
      const [storedRule, storedRoutes] = await Promise.all([api.readRaw<StoredObject>(rule), api.readRaw<StoredObject>(routes)]);
      for (const stored of [storedRule, storedRoutes]) {
        if (stored === undefined || isDetourOwned(stored)) continue;
        this.refused.add(service);
        metrics.recordWrite(stored.kind, "refused");
        log.warn(
          { kind: stored.kind, object: `${routing.namespace}/${stored.metadata.name}`, service },
          "not detour's object (no app.kubernetes.io/part-of: detour label): left as it is; the service's routing objects are not written",
        );
        return;
      }
      const wanted = new Set(routing.versions.map((version) => version.name));
      const subsetNames = new Set(rule.spec !== undefined ? ((rule.spec as Spec).subsets ?? []).map((subset) => subset.name) : []);
      const leaving = (storedRule?.spec?.subsets ?? []).filter((subset) => subset.name !== undefined && !subsetNames.has(subset.name));
      if (leaving.length !== 0 && storedRule !== undefined) {
        // The routes to the leaving subsets go first; until then the rule keeps their subsets.
        const spec = rule.spec as Spec;
        await this.apply({ ...rule, spec: { ...spec, subsets: [...(spec.subsets ?? []), ...leaving] } }, storedRule);
        await this.apply(routes, storedRoutes);
        await this.apply(rule, undefined);
      } else {
        await this.apply(rule, storedRule);
        await this.apply(routes, storedRoutes);
      }
      this.written.set(service, routing);
      this.retries.delete(service);
      log.debug({ service, namespace: routing.namespace, versions: [...wanted] }, "routing objects in step");
    } catch (error) {
      const delayMs = Math.min((this.retries.get(service)?.delayMs ?? RETRY_FIRST_MS / 2) * 2, RETRY_MAX_MS);
      log.warn({ service, namespace: routing.namespace, problem: failureMessage(error), retryInMs: delayMs }, "could not write the service's routing objects; retrying");
      const timer = setTimeout(() => {
        this.retries.delete(service);
        this.enqueue(service);
      }, delayMs);
      timer.unref();
      this.retries.set(service, { delayMs, timer });
    }
  }

  /** Applies `object` unless the stored one already says the same (its spec and detour's labels). */
  private async apply(object: KubernetesObject, stored: StoredObject | undefined): Promise<void> {
    const same =
      stored !== undefined &&
      isDeepStrictEqual(stored.spec, object.spec) &&
      Object.entries(object.metadata.labels).every(([key, value]) => stored.metadata.labels?.[key] === value);
    if (same) {
      this.context.metrics.recordWrite(object.kind, "unchanged");
      return;
    }
    try {
      await this.context.api.apply(object, { force: true });
      this.context.metrics.recordWrite(object.kind, "applied");
    } catch (error) {
      this.context.metrics.recordWrite(object.kind, "failed");
      throw error;
    }
  }
}

/** The routing-object writer as the Lease holder's work. */
export function routingObjectWork(section: KubernetesConfig): (context: LeaderWorkContext) => RoutingObjectWriter {
  return (context) => new RoutingObjectWriter(section, context);
}
