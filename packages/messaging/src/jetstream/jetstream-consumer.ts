import { createHash } from "node:crypto";
import { context } from "@opentelemetry/api";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { headers as createHeaders, nanos, type NatsConnection } from "@nats-io/transport-node";
import { DetourError, isValidVersion } from "@detour/core";
import { FORWARDED_HEADER, INBOX_SEGMENT } from "../constants.js";
import type { DetourConsumerOptions } from "../consumer-options.js";
import { detourControls, startSelection, type DetourControls, type StartedSelection } from "../consumer-controls.js";
import { natsOrigin, withOriginSubject } from "../nats-headers.js";
import { pickHeaderEntries } from "../message-headers.js";
import { MessageOverrideReader } from "../message-overrides.js";
import type { Drain, InboxDriver } from "../selective-consumption.js";

export interface DetourJetStreamOptions {
  /** The stream this consumer service reads. */
  readonly stream: string;
  /** The service's durable consumer on that stream (created by the application). */
  readonly consumer: string;
  /**
   * ack_wait of the inbox consumers (ms); default 30000, JetStream's own default. A crashed
   * version's unacknowledged messages are redelivered (to the baseline's drain) after it.
   */
  readonly ackWaitMs?: number;
}

export type DetourJetStreamControls = DetourControls<JsMsg>;

export interface DetourJetStreamConsumer {
  readonly detour: DetourJetStreamControls;
  /**
   * Starts consuming. The handler runs once per message inside the message's override context
   * and acknowledges it (`message.ack()`); a version's handler sees the original subject. A handler
   * that throws gets its message nak'ed (redelivered).
   */
  start(handler: (message: JsMsg) => unknown): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ACK_WAIT_MS = 30_000;
/** Pull requests of a drain expire soon, so a stopped drain stops counting as a reader of the inbox. */
const DRAIN_PULL_EXPIRES_MS = 5_000;
const DESCRIPTION_PREFIX = "detour inbox of version ";

/**
 * JetStream with detour's selective consumption (docs/messaging.md). Inboxes live in one stream
 * per consumer service, `DETOUR_<stream>_<consumer>` on subjects `detour.<stream>.<consumer>.>`;
 * a version's inbox is a durable consumer on it filtered to `detour.<stream>.<consumer>.<version>`.
 * The baseline reads the service's own durable consumer and forwards each message routed to a
 * live version with an inbox, with `Nats-Msg-Id` `<stream>/<sequence>` so a forward repeated after
 * a crash is dropped by the server's duplicate window; then it acknowledges the original.
 */
export async function createDetourJetStreamConsumer(nc: NatsConnection, options: DetourJetStreamOptions, detour: DetourConsumerOptions): Promise<DetourJetStreamConsumer> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const inboxStream = `${INBOX_SEGMENT.toUpperCase()}_${options.stream}_${options.consumer}`;
  const subjectOf = (version: string) => `${INBOX_SEGMENT}.${options.stream}.${options.consumer}.${version}`;
  // Durable names cannot hold '.', which versions may: a digest names the inbox, the description says the version.
  const durableOf = (version: string) => `${options.consumer}-${INBOX_SEGMENT}-${createHash("sha256").update(version).digest("hex").slice(0, 16)}`;
  let handler: ((message: JsMsg) => unknown) | undefined;
  let started: StartedSelection | undefined;

  const inboxStreamExists = async () => {
    try {
      await jsm.streams.info(inboxStream);
      return true;
    } catch {
      return false;
    }
  };

  const read = async (messages: ConsumerMessages, handle: (message: JsMsg) => Promise<void>) => {
    try {
      for await (const message of messages) await handle(message);
    } catch (error) {
      started?.logger.error({ stream: options.stream, error: (error as Error).message }, "detour: JetStream consumption stopped");
    }
  };

  const driver: InboxDriver = {
    async listInboxes() {
      const inboxes = new Map<string, Set<string>>();
      if (!(await inboxStreamExists())) return inboxes;
      for await (const info of jsm.consumers.list(inboxStream)) {
        const description = info.config.description ?? "";
        if (!description.startsWith(DESCRIPTION_PREFIX)) continue;
        const version = description.slice(DESCRIPTION_PREFIX.length);
        if (isValidVersion(version) && info.name === durableOf(version)) inboxes.set(version, new Set([options.stream]));
      }
      return inboxes;
    },
    async ensureInbox(version) {
      if (!(await inboxStreamExists())) {
        try {
          await jsm.streams.add({ name: inboxStream, subjects: [`${INBOX_SEGMENT}.${options.stream}.${options.consumer}.>`] });
        } catch (error) {
          // Another consumer created it a moment ago.
          if (!(await inboxStreamExists())) throw error;
        }
      }
      await jsm.consumers.add(inboxStream, {
        durable_name: durableOf(version),
        description: `${DESCRIPTION_PREFIX}${version}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subjectOf(version),
        ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      });
    },
    async startDrain(version) {
      if (handler === undefined) throw new DetourError("not-running", "a drain needs the handler given to start()");
      const durable = durableOf(version);
      const messages = await (await js.consumers.get(inboxStream, durable)).consume({ expires: DRAIN_PULL_EXPIRES_MS });
      const drain: Drain & { lastActivityAt: number } = {
        lastActivityAt: Date.now(),
        async isEmpty() {
          const info = await jsm.consumers.info(inboxStream, durable);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        stop: async () => void (await messages.close()),
      };
      void read(messages, async (message) => {
        drain.lastActivityAt = Date.now();
        await onInbox(message);
      });
      return drain;
    },
    async removeInbox(version) {
      const durable = durableOf(version);
      const info = await jsm.consumers.info(inboxStream, durable);
      // Pending pull requests mean a consumer of that version still reads it.
      if (info.num_waiting > 0 || info.num_pending > 0 || info.num_ack_pending > 0) return false;
      await jsm.consumers.delete(inboxStream, durable);
      await jsm.streams.purge(inboxStream, { filter: subjectOf(version) });
      return true;
    },
  };

  started = await startSelection(detour, "createDetourJetStreamConsumer", driver);
  const { workload, logger, selection } = started;
  const reader = new MessageOverrideReader(() => selection.topology);
  const contextOf = (message: JsMsg) => reader.read(pickHeaderEntries(message.headers ?? [], reader.names()));

  const handle = async (message: JsMsg, read = contextOf(message)): Promise<void> => {
    try {
      await context.with(read.context, () => handler!(message));
    } catch (error) {
      logger.error({ subject: message.subject, error: (error as Error).message }, "detour: message handler failed; the message is redelivered");
      message.nak();
    }
  };

  /** An inbox message: the handler sees the subject it was first published to. */
  const onInbox = (message: JsMsg): Promise<void> => handle(withOriginSubject(message));

  const onOrigin = async (message: JsMsg): Promise<void> => {
    const read = contextOf(message);
    const target = selection.forwardTarget(read.set, options.stream);
    if (target !== undefined) {
      try {
        const headers = createHeaders();
        for (const [name, values] of message.headers ?? []) for (const value of values) headers.append(name, value);
        headers.set(FORWARDED_HEADER, natsOrigin(message.subject));
        await js.publish(subjectOf(target), message.data, { headers, msgID: `${options.stream}/${message.seq}` });
        message.ack();
        return;
      } catch (error) {
        logger.warn({ stream: options.stream, version: target, error: (error as Error).message }, "detour: cannot forward to the version's inbox; processing here");
      }
    }
    await handle(message, read);
  };

  let main: ConsumerMessages | undefined;
  return {
    detour: detourControls<JsMsg>(selection, (message, fn) => context.with(contextOf(message).context, fn)),
    async start(given) {
      if (handler !== undefined) throw new DetourError("already-started", "createDetourJetStreamConsumer: start() was already called");
      handler = given;
      if (selection.role === "baseline") {
        main = await (await js.consumers.get(options.stream, options.consumer)).consume();
        void read(main, onOrigin);
      } else {
        await driver.ensureInbox(workload.version);
        main = await (await js.consumers.get(inboxStream, durableOf(workload.version))).consume();
        void read(main, onInbox);
      }
      await selection.begin();
    },
    async close() {
      await selection.stop();
      await main?.close();
    },
  };
}
