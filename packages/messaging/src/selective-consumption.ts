import { DetourError, type OverrideSet, type Topology } from "@detour/core";
import { DEFAULT_TOPOLOGY_START_TIMEOUT_MS } from "./constants.js";
import type { MessagingLogger } from "./messaging-logger.js";
import type { TopologySource } from "./topology-source.js";
import type { Workload } from "./workload.js";

/**
 * A version's inbox on one broker: where the baseline forwards the messages routed to that
 * version, and what the version's consumer reads. Kafka: a topic per subscribed topic; RabbitMQ:
 * a queue; NATS JetStream: a stream. `keys` are the subscriptions it covers (origin topics,
 * queues, subjects): the baseline forwards a message only when the version's inbox covers the
 * message's subscription.
 */
export interface InboxDriver {
  /** Every version that has an inbox for this consumer, with the subscription keys it covers. */
  listInboxes(): Promise<ReadonlyMap<string, ReadonlySet<string>>>;
  /** Creates this version's inbox (idempotent). */
  ensureInbox(version: string): Promise<void>;
  /** Starts processing `version`'s inbox with the baseline's handler; resolves once it consumes. */
  startDrain(version: string): Promise<Drain>;
  /**
   * Deletes `version`'s inbox if nothing is left in it and no consumer other than ours reads it;
   * resolves whether it was deleted.
   */
  removeInbox(version: string): Promise<boolean>;
}

/** The baseline processing a stopped version's inbox. */
export interface Drain {
  /** Epoch ms of the last message it processed (its start time before the first). */
  readonly lastActivityAt: number;
  /** True when every message of the inbox has been processed and committed. */
  isEmpty(): Promise<boolean>;
  stop(): Promise<void>;
}

export type ConsumerRole = "baseline" | "version";

export interface SelectiveConsumptionOptions {
  readonly workload: Workload;
  readonly topology: TopologySource;
  readonly driver: InboxDriver;
  readonly logger: MessagingLogger;
  /** How often inboxes are listed and drains checked (ms). */
  readonly reconcileMs: number;
  /**
   * How long a drained inbox must stay quiet before it is deleted (ms): at least the topology's
   * staleness bound, so every baseline replica has stopped forwarding to it.
   */
  readonly drainQuietMs: number;
  readonly startTimeoutMs?: number;
}

/**
 * The broker-neutral half of selective consumption.
 *
 * Every version of a consumer service has a role. The baseline (the topology's baseline version)
 * consumes the original subscription and decides per message: a message whose override routes the
 * service to another live version that has an inbox is forwarded to that inbox; every other
 * message (no override, the baseline named, a version that is not live, a version without an
 * inbox) is processed here. A version consumes only its own inbox.
 *
 * When a version stops being live (the topology drops it), the baseline processes its later
 * messages itself and drains what is left in its inbox with the same handler; once the inbox has
 * been empty and quiet for `drainQuietMs` and no consumer of that version reads it, the inbox is
 * deleted. A version that comes back live gets its inbox back (its consumer re-creates it).
 */
export class SelectiveConsumption {
  readonly role: ConsumerRole;
  readonly #options: SelectiveConsumptionOptions;
  #topology: Topology;
  #inboxes: ReadonlyMap<string, ReadonlySet<string>> = new Map();
  readonly #drains = new Map<string, Promise<Drain | undefined>>();
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #stopped = false;
  #warnedNotLive = false;
  #unsubscribe: (() => void) | undefined;

  private constructor(options: SelectiveConsumptionOptions, topology: Topology, role: ConsumerRole) {
    this.#options = options;
    this.#topology = topology;
    this.role = role;
  }

  /**
   * Waits for the first topology and finds this workload's role. Throws DetourError at startup
   * when the topology does not know the service (a typo would otherwise consume in the wrong role).
   */
  static async start(options: SelectiveConsumptionOptions): Promise<SelectiveConsumption> {
    const topology = await options.topology.ready(options.startTimeoutMs ?? DEFAULT_TOPOLOGY_START_TIMEOUT_MS);
    const service = topology.service(options.workload.service);
    if (service === undefined) {
      throw new DetourError(
        "unknown-service",
        `workload ${options.workload.key}: the topology has no service '${options.workload.service}' (services: ${topology.serviceNames().join(", ") || "none"}): add it to detour.yaml or fix the workload`,
      );
    }
    const role: ConsumerRole = service.baseline === options.workload.version ? "baseline" : "version";
    return new SelectiveConsumption(options, topology, role);
  }

  /** Lists inboxes once (and creates this version's inbox), then keeps reconciling in the background. */
  async begin(): Promise<void> {
    await this.reconcile();
    this.#unsubscribe = this.#options.topology.onChange((topology) => {
      this.#topology = topology;
      void this.reconcile();
    });
    this.#schedule();
  }

  /** Versions with an inbox (last listing) and the ones the baseline is draining now. */
  status(): { inboxes: string[]; draining: string[] } {
    return { inboxes: [...this.#inboxes.keys()], draining: [...this.#drains.keys()] };
  }

  /** The topology in use now. */
  get topology(): Topology {
    return this.#topology;
  }

  /**
   * The baseline's decision for one message of subscription `key`: the version to forward it to,
   * or undefined to process it here. Synchronous: reads the latest topology and inbox listing.
   */
  forwardTarget(set: OverrideSet, key: string): string | undefined {
    if (this.role !== "baseline" || set.isEmpty) return undefined;
    const route = this.#topology.route(set, this.#options.workload.service);
    if (route === undefined || !route.overridden) return undefined;
    return this.#inboxes.get(route.version)?.has(key) === true ? route.version : undefined;
  }

  /** Whether `version` is a live version of this service other than its baseline. */
  #isLive(version: string): boolean {
    const service = this.#topology.service(this.#options.workload.service);
    return service !== undefined && service.baseline !== version && service.versions.has(version);
  }

  /** One round: list inboxes, then start, stop or finish drains (baseline) or keep our inbox (version). */
  reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcileOnce().finally(() => (this.#reconciling = undefined));
    return this.#reconciling;
  }

  async #reconcileOnce(): Promise<void> {
    if (this.#stopped) return;
    const { driver, logger, workload } = this.#options;
    try {
      this.#inboxes = await driver.listInboxes();
    } catch (error) {
      logger.warn({ workload: workload.key, error: (error as Error).message }, "detour: cannot list inboxes; keeping the last listing");
      return;
    }
    if (this.role === "version") {
      if (!this.#isLive(workload.version) && !this.#warnedNotLive) {
        this.#warnedNotLive = true;
        logger.warn({ workload: workload.key }, "detour: this version is not live in the topology: the baseline forwards nothing to it until it is");
      }
      if (!this.#inboxes.has(workload.version)) {
        try {
          await driver.ensureInbox(workload.version);
          logger.info({ workload: workload.key }, "detour: inbox created");
        } catch (error) {
          logger.warn({ workload: workload.key, error: (error as Error).message }, "detour: cannot create this version's inbox; retrying");
        }
      }
      return;
    }
    for (const version of this.#inboxes.keys()) {
      const draining = this.#drains.get(version);
      if (this.#isLive(version)) {
        if (draining !== undefined) await this.#stopDrain(version, "the version is live again");
        continue;
      }
      if (draining === undefined) {
        this.#startDrain(version);
        continue;
      }
      const drain = await draining;
      if (drain === undefined) continue;
      if (Date.now() - drain.lastActivityAt < this.#options.drainQuietMs) continue;
      let empty = false;
      try {
        empty = await drain.isEmpty();
      } catch (error) {
        logger.warn({ workload: workload.key, version, error: (error as Error).message }, "detour: cannot check a drained inbox");
      }
      if (!empty) continue;
      await this.#stopDrain(version, "drained");
      try {
        const removed = await driver.removeInbox(version);
        logger.info({ workload: workload.key, version, removed }, removed ? "detour: inbox of a stopped version drained and removed" : "detour: inbox of a stopped version drained; kept (still read by its consumer)");
      } catch (error) {
        logger.warn({ workload: workload.key, version, error: (error as Error).message }, "detour: cannot remove a drained inbox; retrying");
      }
    }
    for (const version of [...this.#drains.keys()]) {
      if (!this.#inboxes.has(version)) await this.#stopDrain(version, "the inbox is gone");
    }
  }

  #startDrain(version: string): void {
    const { driver, logger, workload } = this.#options;
    logger.info({ workload: workload.key, version }, "detour: version is not live; the baseline processes what is left in its inbox");
    const started = driver.startDrain(version).catch((error: unknown) => {
      logger.warn({ workload: workload.key, version, error: (error as Error).message }, "detour: cannot drain a stopped version's inbox; retrying");
      this.#drains.delete(version);
      return undefined;
    });
    this.#drains.set(version, started);
  }

  async #stopDrain(version: string, reason: string): Promise<void> {
    const draining = this.#drains.get(version);
    this.#drains.delete(version);
    const drain = await draining;
    if (drain === undefined) return;
    this.#options.logger.debug({ workload: this.#options.workload.key, version, reason }, "detour: drain stopped");
    await drain.stop().catch((error: unknown) => {
      this.#options.logger.warn({ workload: this.#options.workload.key, version, error: (error as Error).message }, "detour: drain did not stop cleanly");
    });
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.reconcile().then(() => this.#schedule()), this.#options.reconcileMs);
    this.#timer.unref();
  }

  /** Stops reconciling and every drain. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#reconciling;
    await Promise.all([...this.#drains.keys()].map((version) => this.#stopDrain(version, "consumer stopped")));
  }
}
