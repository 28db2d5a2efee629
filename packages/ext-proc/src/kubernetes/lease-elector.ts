import type { Logger } from "pino";
import type { LeaderElectionConfig } from "../config/kubernetes-config-schema.js";
import { failureMessage } from "./kubernetes-api.js";
import { microTime } from "./micro-time.js";

/** A coordination.k8s.io/v1 Lease as JSON. */
export interface LeaseObject {
  apiVersion: "coordination.k8s.io/v1";
  kind: "Lease";
  metadata: { name: string; namespace: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

/** The three calls the election makes (DetourKubernetesApi has them). */
export interface LeaseStore {
  readRaw(object: LeaseObject): Promise<LeaseObject | undefined>;
  /** False when it exists already. */
  createRaw(object: LeaseObject): Promise<boolean>;
  /** False when the resourceVersion precondition failed. */
  replaceRaw(object: LeaseObject): Promise<boolean>;
}

export interface LeaseElectorOptions {
  readonly store: LeaseStore;
  readonly namespace: string;
  readonly identity: string;
  readonly settings: LeaderElectionConfig;
  /** Labels of the Lease when this replica creates it (detour's ownership mark). */
  readonly labels: Readonly<Record<string, string>>;
  readonly logger: Logger;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/**
 * Leader election on a Lease, as client-go's leaderelection does it: every replica tries every
 * retryPeriod; the holder renews (renewTime), the others take the lease over only when its record
 * has not changed for leaseDuration as measured on their own clock (no trust in other nodes'
 * clocks), with the resourceVersion as precondition so only one wins. A leader that cannot renew
 * for renewDeadline stops leading before anyone else may start. stop() releases the lease so a
 * replica shut down on purpose is replaced at once.
 */
export class LeaseElector {
  private leadingNow = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  /** The record last seen (holder and renewTime) and when this replica first saw it. */
  private observed: { holder: string; renewTime: string; at: number } | undefined;
  private lastRenew = 0;
  private currentHolder: string | undefined;

  constructor(private readonly options: LeaseElectorOptions) {}

  get leading(): boolean {
    return this.leadingNow;
  }

  /** The identity holding the lease as last seen (undefined when none or not seen yet). */
  get holder(): string | undefined {
    return this.currentHolder;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops trying; a leader stops leading and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.loop;
    if (!this.leadingNow) return;
    this.setLeading(false);
    try {
      const lease = await this.options.store.readRaw(this.reference());
      if (lease?.spec?.holderIdentity === this.options.identity) {
        const now = Date.now();
        await this.options.store.replaceRaw({ ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(now) } });
      }
    } catch (error) {
      this.options.logger.warn({ lease: this.leaseName(), problem: failureMessage(error) }, "could not release the lease; another replica takes over when it expires");
    }
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.settings.lease}`;
  }

  private reference(): LeaseObject {
    return { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: this.options.settings.lease, namespace: this.options.namespace } };
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => {
        this.loop = undefined;
        // Candidates wait a little longer at random so two replicas do not keep colliding.
        const retry = this.options.settings.retryPeriodSeconds * 1000;
        if (!this.stopped) this.schedule(this.leadingNow ? retry : retry * (1 + Math.random() * 0.1));
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    try {
      if (await this.tryAcquireOrRenew(now)) {
        this.lastRenew = now;
        this.setLeading(true);
        return;
      }
      if (this.leadingNow) this.setLeading(false);
    } catch (error) {
      const overdue = Date.now() - this.lastRenew > this.options.settings.renewDeadlineSeconds * 1000;
      if (this.leadingNow && overdue) {
        this.options.logger.warn({ lease: this.leaseName(), problem: failureMessage(error) }, "could not renew the lease within the renew deadline: no longer the writer");
        this.setLeading(false);
      } else {
        this.options.logger.debug({ lease: this.leaseName(), problem: failureMessage(error) }, "lease call failed; retrying");
      }
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { store, identity, settings } = this.options;
    const lease = await store.readRaw(this.reference());
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: settings.leaseDurationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (lease === undefined) {
      const created = await store.createRaw({ ...this.reference(), metadata: { ...this.reference().metadata, labels: { ...this.options.labels } }, spec });
      if (created) this.currentHolder = identity;
      return created;
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const renewTime = lease.spec?.renewTime ?? "";
    if (this.observed === undefined || this.observed.holder !== holder || this.observed.renewTime !== renewTime) {
      this.observed = { holder, renewTime, at: now };
    }
    this.currentHolder = holder.length === 0 ? undefined : holder;
    const duration = (lease.spec?.leaseDurationSeconds ?? settings.leaseDurationSeconds) * 1000;
    if (holder.length !== 0 && holder !== identity && this.observed.at + duration > now) return false;
    const mine = holder === identity;
    const next: LeaseObject = {
      ...lease,
      spec: {
        ...spec,
        acquireTime: mine ? (lease.spec?.acquireTime ?? spec.acquireTime) : spec.acquireTime,
        leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    const replaced = await store.replaceRaw(next);
    if (replaced) {
      this.currentHolder = identity;
      if (!mine) this.options.logger.info({ lease: this.leaseName(), identity, previous: holder || undefined }, "acquired the lease: this replica writes");
    }
    return replaced;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leadingNow) return;
    this.leadingNow = leading;
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }
}
