import { context } from "@opentelemetry/api";
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from "amqplib";
import { DetourError } from "@detour/core";
import { amqpInboxes } from "../amqp-inboxes.js";
import { FORWARDED_HEADER } from "../constants.js";
import type { DetourConsumerOptions } from "../consumer-options.js";
import { detourControls, startSelection, type DetourControls, type StartedSelection } from "../consumer-controls.js";
import { headerText, pickHeaders } from "../message-headers.js";
import { MessageOverrideReader } from "../message-overrides.js";
import { overriding } from "../overriding.js";
import type { Drain, InboxDriver } from "../selective-consumption.js";

export interface DetourAmqpOptions {
  /** The queue this consumer service reads (declared and bound by the application). */
  readonly queue: string;
  /** Unacknowledged deliveries per consumer (basic.qos); default 20. */
  readonly prefetch?: number;
}

export type DetourAmqpControls = DetourControls<Message>;

export interface DetourAmqpConsumer {
  /** The channel messages are delivered on: ack, nack and reject here. */
  readonly channel: Channel;
  /** The queue actually consumed: `options.queue` for the baseline, the inbox for a version. */
  readonly queue: string;
  readonly detour: DetourAmqpControls;
  /**
   * Starts consuming. The handler runs once per message inside the message's override context
   * and acknowledges it on `consumer.channel` (the baseline acknowledges what it forwards). A
   * handler that throws gets its message rejected and requeued.
   */
  consume(handler: (message: ConsumeMessage) => unknown, options?: Options.Consume): Promise<void>;
  close(): Promise<void>;
}

/** Unacknowledged deliveries per consumer by default: enough to keep a handler busy, few to redeliver after a crash. */
const DEFAULT_PREFETCH = 20;

/**
 * An amqplib consumer with detour's selective consumption (docs/messaging.md). The baseline
 * consumes `options.queue` and forwards each message routed to another live version (through the
 * default exchange, with publisher confirms and `mandatory`, so a missing inbox sends it back and
 * the baseline processes it); a version consumes its inbox `<queue>.detour.<version>`.
 */
export async function createDetourConsumer(connection: ChannelModel, options: DetourAmqpOptions, detour: DetourConsumerOptions): Promise<DetourAmqpConsumer> {
  const origin = options.queue;
  if (typeof origin !== "string" || origin.length === 0) throw new DetourError("invalid-options", "createDetourConsumer: options.queue must name the queue this service consumes");

  const consumeChannel = await connection.createChannel();
  consumeChannel.on("error", (error: Error) => started?.logger.error({ queue: origin, error: error.message }, "detour: consume channel failed"));
  await consumeChannel.prefetch(options.prefetch ?? DEFAULT_PREFETCH);
  let handler: ((message: ConsumeMessage) => unknown) | undefined;
  let consumeOptions: Options.Consume | undefined;
  // Deliveries of drained inboxes not acknowledged yet: a drain is finished only when none is left.
  const drained = new Map<number, string>();

  /** Runs `fn` on a channel of its own: a failed check or conditional delete closes the channel it ran on. */
  const onFreshChannel = async <T>(fn: (channel: Channel) => Promise<T>): Promise<T> => {
    const channel = await connection.createChannel();
    channel.on("error", () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  };
  const queueExists = (queue: string) =>
    onFreshChannel(async (channel) => {
      try {
        return await channel.checkQueue(queue);
      } catch {
        return undefined;
      }
    });

  const registry = {
    /** The versions named in the registry (read without consuming: closing the channel requeues what was read). */
    read: (remove?: string) =>
      onFreshChannel(async (channel) => {
        const { messageCount } = await channel.assertQueue(amqpInboxes.registry(origin), { durable: true });
        const versions = new Set<string>();
        for (let i = 0; i < messageCount; i++) {
          const entry = await channel.get(amqpInboxes.registry(origin), { noAck: false });
          if (entry === false) break;
          const version = amqpInboxes.version(entry.content.toString("utf8"));
          if (version === undefined || version === remove || versions.has(version)) channel.ack(entry);
          else versions.add(version);
        }
        return versions;
      }),
    add: (version: string) =>
      onFreshChannel(async (channel) => {
        channel.sendToQueue(amqpInboxes.registry(origin), Buffer.from(version), { persistent: true });
      }),
  };

  const driver: InboxDriver = {
    async listInboxes() {
      const candidates = await registry.read();
      const service = started?.selection.topology.service(started.workload.service);
      for (const version of service?.versions ?? []) if (version !== service?.baseline) candidates.add(version);
      const inboxes = new Map<string, Set<string>>();
      for (const version of candidates) if ((await queueExists(amqpInboxes.queue(origin, version))) !== undefined) inboxes.set(version, new Set([origin]));
      return inboxes;
    },
    async ensureInbox(version) {
      await onFreshChannel((channel) => channel.assertQueue(amqpInboxes.queue(origin, version), { durable: true }));
      if (!(await registry.read()).has(version)) await registry.add(version);
    },
    async startDrain(version) {
      if (handler === undefined) throw new DetourError("not-running", "a drain needs the handler given to consume()");
      const queue = amqpInboxes.queue(origin, version);
      const drain: Drain & { lastActivityAt: number } = {
        lastActivityAt: Date.now(),
        async isEmpty() {
          if ([...drained.values()].includes(queue)) return false;
          return (await queueExists(queue))?.messageCount === 0;
        },
        stop: async () => undefined,
      };
      const { consumerTag } = await consumeChannel.consume(
        queue,
        (message) => {
          if (message === null) return;
          drain.lastActivityAt = Date.now();
          drained.set(message.fields.deliveryTag, queue);
          void run(message);
        },
        { ...consumeOptions, noAck: false },
      );
      drain.stop = async () => void (await consumeChannel.cancel(consumerTag));
      return drain;
    },
    async removeInbox(version) {
      const queue = amqpInboxes.queue(origin, version);
      // Atomic on the broker: refused while a message is left or a consumer (the version) reads it.
      const removed = await onFreshChannel(async (channel) => {
        try {
          await channel.deleteQueue(queue, { ifEmpty: true, ifUnused: true });
          return true;
        } catch {
          return false;
        }
      });
      if (removed) await registry.read(version);
      return removed;
    },
  };

  let started: StartedSelection | undefined;
  started = await startSelection(detour, "createDetourConsumer", driver);
  const { workload, logger, selection: chosen } = started;
  const reader = new MessageOverrideReader(() => chosen.topology);
  const role = chosen.role;
  const queue = role === "baseline" ? origin : amqpInboxes.queue(origin, workload.version);

  // Deliveries the application acknowledges: drained ones are tracked until it does.
  const settled = (message: Message) => void drained.delete(message.fields.deliveryTag);
  const settling = (name: "ack" | "nack" | "reject") => (message: Message, ...rest: unknown[]) => {
    settled(message);
    return (consumeChannel[name] as (...args: unknown[]) => void).call(consumeChannel, message, ...rest);
  };
  const channel = overriding(consumeChannel, { ack: settling("ack"), nack: settling("nack"), reject: settling("reject") });

  const readMessage = (message: Message) => reader.read(pickHeaders(message.properties.headers, reader.names()));
  const run = async (message: ConsumeMessage, incoming = readMessage(message)): Promise<void> => {
    try {
      await context.with(incoming.context, () => handler!(message));
    } catch (error) {
      logger.error({ queue: message.fields.routingKey, error: (error as Error).message }, "detour: message handler failed; the message is requeued");
      settled(message);
      consumeChannel.nack(message, false, true);
    }
  };

  let confirmChannel: ConfirmChannel | undefined;
  const returned = new Set<string>();
  let forwards = 0;
  const forward = async (message: ConsumeMessage, version: string): Promise<boolean> => {
    if (confirmChannel === undefined) {
      confirmChannel = await connection.createConfirmChannel();
      confirmChannel.on("error", (error: Error) => logger.error({ queue: origin, error: error.message }, "detour: forwarding channel failed"));
      // A message the broker could not route (the inbox is gone) comes back before its confirm.
      confirmChannel.on("return", (back: Message) => returned.add(headerText(back.properties.headers?.[FORWARDED_HEADER]) ?? ""));
    }
    const id = `amqp:${origin}/${++forwards}`;
    const headers = { ...message.properties.headers, [FORWARDED_HEADER]: id };
    const sent = confirmChannel;
    await new Promise<void>((resolve, reject) => {
      sent.sendToQueue(amqpInboxes.queue(origin, version), message.content, { ...propertiesOf(message), headers, mandatory: true }, (error: unknown) => (error ? reject(error as Error) : resolve()));
    });
    if (returned.delete(id)) return false;
    consumeChannel.ack(message);
    return true;
  };

  const onOrigin = async (message: ConsumeMessage): Promise<void> => {
    const incoming = readMessage(message);
    const target = chosen.forwardTarget(incoming.set, origin);
    if (target !== undefined) {
      try {
        if (await forward(message, target)) return;
        logger.warn({ queue: origin, version: target }, "detour: the version's inbox is gone; processing here");
      } catch (error) {
        logger.warn({ queue: origin, version: target, error: (error as Error).message }, "detour: cannot forward to the version's inbox; processing here");
      }
    }
    await run(message, incoming);
  };

  let consumerTag: string | undefined;
  return {
    channel,
    queue,
    detour: detourControls<Message>(chosen, (message, fn) => context.with(readMessage(message).context, fn)),
    async consume(given, options) {
      if (handler !== undefined) throw new DetourError("already-consuming", "createDetourConsumer: consume() was already called");
      handler = given;
      consumeOptions = options;
      if (role === "version") await driver.ensureInbox(workload.version);
      ({ consumerTag } = await consumeChannel.consume(
        queue,
        (message) => {
          if (message === null) return;
          void (role === "baseline" ? onOrigin(message) : run(message));
        },
        { ...options, noAck: false },
      ));
      await chosen.begin();
    },
    async close() {
      await chosen.stop();
      if (consumerTag !== undefined) await consumeChannel.cancel(consumerTag).catch(() => undefined);
      await consumeChannel.close().catch(() => undefined);
      await confirmChannel?.close().catch(() => undefined);
    },
  };
}

/** The publish options that reproduce a consumed message's properties. */
function propertiesOf(message: Message): Options.Publish {
  const p = message.properties;
  const options: Record<string, unknown> = {};
  for (const key of ["contentType", "contentEncoding", "deliveryMode", "priority", "correlationId", "replyTo", "expiration", "messageId", "timestamp", "type", "userId", "appId"] as const) {
    const value: unknown = p[key];
    if (value !== undefined) options[key] = value;
  }
  return options as Options.Publish;
}
