import { context } from "@opentelemetry/api";
import { Empty, headers as createHeaders, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { DetourError } from "@detour/core";
import { FORWARDED_HEADER, INBOX_SEGMENT } from "../constants.js";
import type { DetourConsumerOptions } from "../consumer-options.js";
import { detourControls, startSelection, type DetourControls, type StartedSelection } from "../consumer-controls.js";
import { natsOrigin, withOriginSubject } from "../nats-headers.js";
import { pickHeaderEntries } from "../message-headers.js";
import { MessageOverrideReader } from "../message-overrides.js";
import type { InboxDriver } from "../selective-consumption.js";

export interface DetourNatsOptions {
  /** The subject (wildcards allowed) this consumer service subscribes to. */
  readonly subject: string;
  /** The service's queue group: its replicas share the subscription. */
  readonly queue: string;
  /**
   * How long the baseline waits for a version to confirm a forwarded message (ms); default 5000.
   * Without a confirmation (the version is gone, or slower than this) the baseline processes the
   * message itself.
   */
  readonly forwardTimeoutMs?: number;
}

export type DetourNatsControls = DetourControls<Msg>;

export interface DetourNatsSubscription {
  readonly detour: DetourNatsControls;
  /**
   * Starts the subscription. The handler runs once per message inside the message's override
   * context; a version's handler sees the original subject.
   */
  start(handler: (message: Msg) => unknown): Promise<void>;
  close(): Promise<void>;
}

/** How long the baseline waits for a version's confirmation by default (ms): a handler's usual run time with room. */
const DEFAULT_FORWARD_TIMEOUT_MS = 5_000;

/**
 * Core NATS with detour's selective consumption (docs/messaging.md). Core NATS keeps nothing, so
 * a version's inbox is a subscription: `detour.<queue>.<version>` in queue group
 * `<queue>.detour.<version>`. The baseline forwards a message routed to a live version as a
 * request and waits for the version to confirm it handled it; "no responders" (the version is not
 * running) or no confirmation in time makes the baseline process it itself. A message that is
 * itself a request is forwarded with its reply subject, so the version answers the requester.
 */
export async function createDetourSubscription(nc: NatsConnection, options: DetourNatsOptions, detour: DetourConsumerOptions): Promise<DetourNatsSubscription> {
  const forwardTimeoutMs = options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  const inboxSubject = (version: string) => `${INBOX_SEGMENT}.${options.queue}.${version}`;

  // Nothing persists in core NATS: every live version counts as having an inbox, and a forward
  // that finds no subscriber comes back as "no responders". Nothing is ever left to drain.
  let started: StartedSelection | undefined;
  const driver: InboxDriver = {
    async listInboxes() {
      const service = started?.selection.topology.service(started.workload.service);
      const inboxes = new Map<string, Set<string>>();
      for (const version of service?.versions ?? []) if (version !== service?.baseline) inboxes.set(version, new Set([options.queue]));
      return inboxes;
    },
    ensureInbox: async () => undefined,
    startDrain: async () => ({ lastActivityAt: 0, isEmpty: async () => true, stop: async () => undefined }),
    removeInbox: async () => true,
  };
  started = await startSelection(detour, "createDetourSubscription", driver);
  const { workload, logger, selection: chosen } = started;
  const reader = new MessageOverrideReader(() => chosen.topology);
  const contextOf = (message: Msg) => reader.read(pickHeaderEntries(message.headers ?? [], reader.names()));
  let subscription: Subscription | undefined;
  let handler: ((message: Msg) => unknown) | undefined;

  const failed = (message: Msg) => (error: unknown) => logger.error({ subject: message.subject, error: (error as Error).message }, "detour: message handler failed");
  /** Runs the handler in the message's context; a promise it returns is awaited only by whoever needs to. */
  const handle = (message: Msg, read = contextOf(message)): Promise<void> | undefined => {
    try {
      const result: unknown = context.with(read.context, () => handler!(message));
      if (result instanceof Promise) return result.then(() => undefined, failed(message));
    } catch (error) {
      failed(message)(error);
    }
    return undefined;
  };

  const unconfirmed = new Set<string>();
  const forward = async (message: Msg, version: string): Promise<boolean> => {
    const headers = createHeaders();
    for (const [name, values] of message.headers ?? []) for (const value of values) headers.append(name, value);
    headers.set(FORWARDED_HEADER, natsOrigin(message.subject));
    if (message.reply !== undefined && message.reply !== "") {
      headers.set(FORWARDED_REQUEST_HEADER, "true");
      nc.publish(inboxSubject(version), message.data, { headers, reply: message.reply });
      return true;
    }
    try {
      await nc.request(inboxSubject(version), message.data, { headers, timeout: forwardTimeoutMs });
      unconfirmed.delete(version);
      return true;
    } catch (error) {
      // Once per version until it confirms again: after a version dies every forward fails this way
      // until the topology drops it.
      if (!unconfirmed.has(version)) {
        unconfirmed.add(version);
        logger.warn({ subject: message.subject, version, error: (error as Error).message }, "detour: the version did not confirm a forwarded message; processing here (logged once until it confirms again)");
      }
      return false;
    }
  };

  const onOrigin = (message: Msg): void => {
    const read = contextOf(message);
    const target = chosen.forwardTarget(read.set, options.queue);
    // The common case stays synchronous: no promise per message unless it is forwarded.
    if (target === undefined) return void handle(message, read);
    void forward(message, target).then((forwarded) => (forwarded ? undefined : handle(message, read)));
  };

  /** A version's message: the original subject for the handler, then the confirmation the baseline waits for. */
  const onInbox = async (message: Msg): Promise<void> => {
    const confirm = message.reply;
    await handle(withOriginSubject(message));
    // A forwarded request was answered by the handler itself; a forwarded event is confirmed here.
    if (confirm !== undefined && !forwardedRequest(message)) nc.publish(confirm, Empty);
  };

  return {
    detour: detourControls<Msg>(chosen, (message, fn) => context.with(contextOf(message).context, fn)),
    async start(given) {
      if (handler !== undefined) throw new DetourError("already-started", "createDetourSubscription: start() was already called");
      handler = given;
      subscription =
        chosen.role === "baseline"
          ? nc.subscribe(options.subject, { queue: options.queue, callback: (error, message) => (error ? logger.error({ error: error.message }, "detour: subscription failed") : onOrigin(message)) })
          : nc.subscribe(inboxSubject(workload.version), {
              queue: `${options.queue}.${INBOX_SEGMENT}.${workload.version}`,
              callback: (error, message) => void (error ? logger.error({ error: error.message }, "detour: subscription failed") : onInbox(message)),
            });
      await nc.flush();
      await chosen.begin();
    },
    async close() {
      await chosen.stop();
      await subscription?.drain();
    },
  };
}

/**
 * Set on a forwarded request: its reply subject is the requester's, answered by the handler, so
 * the version sends no confirmation. A forwarded event's reply subject is the baseline's.
 */
const FORWARDED_REQUEST_HEADER = "x-detour-forwarded-request";

function forwardedRequest(message: Msg): boolean {
  return message.headers?.has(FORWARDED_REQUEST_HEADER) === true;
}
