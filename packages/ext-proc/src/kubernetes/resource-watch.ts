import { setTimeout as sleep } from "node:timers/promises";
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { WATCH_RETRY_FIRST_MS, WATCH_RETRY_MAX_MS } from "../constants.js";
import type { DetourKubernetesApi } from "./kubernetes-api.js";

/**
 * The longest pause the official informer takes before re-opening a watch the API server closed
 * normally. It doubles its pause up to 30 s while a resource stays quiet, and an object changed
 * during that pause would reach the routing table late; a failing watch is retried by
 * ResourceWatch's own backoff instead.
 */
const REOPEN_PAUSE_MAX_MS = 250;

type WatchCallback = (phase: string, object: unknown, watchObject?: unknown) => void;

/**
 * The official client's Watch with each object projected as it arrives (see object-views.ts),
 * the way client-go informers take a transform: the informer's cache holds projections only.
 */
class ProjectingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly project: (object: unknown) => KubernetesObject,
  ) {
    super(config);
  }

  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: WatchCallback, done: (error: unknown) => void): Promise<AbortController> {
    // ERROR events carry a Status, not an object of the watched kind: passed on as sent.
    return super.watch(path, queryParams, (phase, object, watchObject) => callback(phase, phase === "ERROR" || phase === "BOOKMARK" ? object : this.project(object), watchObject), done);
  }
}

/** What an informer needs of a cached object. */
export interface WatchedObject {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
}

export interface ResourceWatchOptions<T extends WatchedObject> {
  readonly kubeConfig: KubeConfig;
  readonly api: DetourKubernetesApi;
  /** Collection path, e.g. `/api/v1/namespaces/shop/pods`. */
  readonly path: string;
  /** What the cache keeps of each object. */
  readonly project: (object: unknown) => T;
  /** Any object added, changed or deleted (also for the objects of a relist). */
  readonly onChange: () => void;
  /** The watch went down (error) or came back (undefined). */
  readonly onHealth: (error: unknown) => void;
}

/**
 * One informer (list, then watch from the list's resourceVersion; a relist when the API server
 * says the version is gone) on the official client's ListWatch, plus what it leaves to its user:
 * restarting after a failed list or watch, with a doubling delay, until it is stopped.
 */
export class ResourceWatch<T extends WatchedObject> {
  private readonly informer: ListWatch<KubernetesObject>;
  private stopped = false;
  private failing = false;
  private everSynced = false;
  private retryMs = WATCH_RETRY_FIRST_MS;
  private failedDuringStart = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResourceWatchOptions<T>) {
    const list = async () => {
      const raw = await options.api.listRaw(options.path);
      return { metadata: { resourceVersion: raw.metadata?.resourceVersion }, items: raw.items.map(options.project) };
    };
    // The projections are plain JSON like the objects they come from; the client's typed
    // KubernetesObject merely declares timestamps as Dates.
    const project = options.project as unknown as (object: unknown) => KubernetesObject;
    this.informer = new ListWatch<KubernetesObject>(options.path, new ProjectingWatch(options.kubeConfig, project), list as never, false, undefined, undefined, {
      delayFn: (ms) => sleep(Math.min(ms, REOPEN_PAUSE_MAX_MS)),
    });
    const changed = () => options.onChange();
    this.informer.on("add", changed);
    this.informer.on("update", changed);
    this.informer.on("delete", changed);
    this.informer.on("error", (error) => this.failed(error));
  }

  /** The cached objects. */
  list(): readonly T[] {
    return this.informer.list() as unknown as readonly T[];
  }

  /** The first list has arrived (the cache may be stale since, see `healthy`). */
  get synced(): boolean {
    return this.everSynced;
  }

  /** The last list or watch attempt worked. */
  get healthy(): boolean {
    return !this.failing;
  }

  /** Starts listing and watching; resolves after the first attempt, whatever its outcome (failures retry on their own). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  private async attempt(): Promise<void> {
    this.failedDuringStart = false;
    try {
      await this.informer.start();
    } catch (error) {
      this.failed(error);
      return;
    }
    // ListWatch reports a failed list or watch through its error callback before start() resolves.
    if (this.stopped || this.failedDuringStart) return;
    this.retryMs = WATCH_RETRY_FIRST_MS;
    const recovered = this.failing;
    this.failing = false;
    if (!this.everSynced) {
      this.everSynced = true;
      this.options.onChange();
    }
    if (recovered) this.options.onHealth(undefined);
  }

  private failed(error: unknown): void {
    this.failedDuringStart = true;
    if (this.stopped) return;
    const first = !this.failing;
    this.failing = true;
    if (first) this.options.onHealth(error);
    clearTimeout(this.restartTimer);
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, WATCH_RETRY_MAX_MS);
    this.restartTimer = setTimeout(() => {
      if (!this.stopped) void this.attempt();
    }, delay);
    this.restartTimer.unref();
  }
}
