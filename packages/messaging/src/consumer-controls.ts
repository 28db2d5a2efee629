import { DetourError } from "@detour/core";
import { consumerTimings, type DetourConsumerOptions } from "./consumer-options.js";
import { diagLogger, type MessagingLogger } from "./messaging-logger.js";
import { SelectiveConsumption, type ConsumerRole, type InboxDriver } from "./selective-consumption.js";
import { parseWorkload, type Workload } from "./workload.js";

/** What every detour consumer exposes as `consumer.detour`, for messages of type M. */
export interface DetourControls<M> {
  /** "baseline": consumes the subscription and forwards other versions' messages; "version": consumes its inbox. */
  readonly role: ConsumerRole;
  /** Runs `fn` in the context of one message (its override and token). */
  withMessage<T>(message: M, fn: () => T): T;
  /** Versions with an inbox for this consumer, and the ones the baseline is draining now. */
  status(): { inboxes: string[]; draining: string[] };
  /** Lists inboxes and checks drains now instead of at the next interval. */
  reconcile(): Promise<void>;
}

/** A consumer's selective consumption, started from its options (the common start of every client wrapper). */
export interface StartedSelection {
  readonly workload: Workload;
  readonly logger: MessagingLogger;
  readonly selection: SelectiveConsumption;
}

/**
 * Validates a consumer's options, waits for the topology and takes the workload's role. Throws
 * DetourError at startup (bad workload, no topology in time, a service the topology lacks).
 */
export async function startSelection(options: DetourConsumerOptions, where: string, driver: InboxDriver): Promise<StartedSelection> {
  if (typeof options !== "object" || options === null) throw new DetourError("invalid-options", `${where}: pass { workload, topology }`);
  const workload = parseWorkload(options.workload, where);
  const logger = options.logger ?? diagLogger;
  const timings = consumerTimings(options);
  const selection = await SelectiveConsumption.start({
    workload,
    topology: options.topology,
    driver,
    logger,
    reconcileMs: timings.reconcileMs,
    drainQuietMs: timings.drainQuietMs,
    startTimeoutMs: options.topologyStartTimeoutMs,
  });
  return { workload, logger, selection };
}

/** The `detour` controls of a consumer whose messages are read by `withMessage`. */
export function detourControls<M>(selection: SelectiveConsumption, withMessage: <T>(message: M, fn: () => T) => T): DetourControls<M> {
  return {
    role: selection.role,
    withMessage,
    status: () => selection.status(),
    reconcile: () => selection.reconcile(),
  };
}
