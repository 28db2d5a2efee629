import { DetourError } from "@detour/core";
import { DRAIN_MARGIN_MS, DEFAULT_RECONCILE_MS } from "./constants.js";
import type { MessagingLogger } from "./messaging-logger.js";
import type { TopologySource } from "./topology-source.js";

/** Options of every detour consumer wrapper. */
export interface DetourConsumerOptions {
  /** The workload this consumer runs as, `service/version` (e.g. "ledger/pr-7"). */
  readonly workload: string;
  /** Where live versions come from: createTopologyClient({ url }) or fixedTopology(...). */
  readonly topology: TopologySource;
  /** Default: OpenTelemetry's `diag`. pino's logger fits. */
  readonly logger?: MessagingLogger;
  /** How long start waits for the first topology (ms); default 30000. */
  readonly topologyStartTimeoutMs?: number;
  /** How often inboxes are listed and drains checked (ms); default 2000. */
  readonly reconcileMs?: number;
  /**
   * How long a stopped version's drained inbox stays quiet before it is deleted (ms); default the
   * topology's staleness bound plus 2 s. Shorter would delete an inbox another baseline replica
   * may still forward to (that message would then be processed by the baseline: late, not lost).
   */
  readonly drainQuietMs?: number;
}

export interface ConsumerTimings {
  readonly reconcileMs: number;
  readonly drainQuietMs: number;
}

export function consumerTimings(options: DetourConsumerOptions): ConsumerTimings {
  const reconcileMs = options.reconcileMs ?? DEFAULT_RECONCILE_MS;
  const drainQuietMs = options.drainQuietMs ?? options.topology.stalenessMs + DRAIN_MARGIN_MS;
  for (const [name, value] of [["reconcileMs", reconcileMs], ["drainQuietMs", drainQuietMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || (name === "reconcileMs" && value < 1)) {
      throw new DetourError("invalid-options", `${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  return { reconcileMs, drainQuietMs };
}
