import { context } from "@opentelemetry/api";
import type { Batch, EachBatchHandler, EachBatchPayload, EachMessageHandler, EachMessagePayload, KafkaMessage } from "kafkajs";
import { pickHeaders } from "../message-headers.js";
import type { MessageOverrideReader } from "../message-overrides.js";
import type { MessagingLogger } from "../messaging-logger.js";
import type { SelectiveConsumption } from "../selective-consumption.js";

/** Sends messages to a version's inbox; rejects when the broker did not take them. */
export type KafkaForwarder = (topic: string, partition: number, version: string, messages: readonly KafkaMessage[]) => Promise<void>;

/** Runs `fn` in the context of one consumed kafkajs message (its override, its token). */
export function runInMessage<T>(reader: MessageOverrideReader, message: KafkaMessage, fn: () => T): T {
  const incoming = reader.read(pickHeaders(message.headers, reader.names()));
  return context.with(incoming.context, fn);
}

/**
 * The handler a version (or a baseline draining a stopped version) runs: every message of its
 * inbox is its own. Handlers see the origin topic, not the inbox's name.
 */
export function inboxEachMessage(user: EachMessageHandler, reader: MessageOverrideReader, originOf: (topic: string) => string): EachMessageHandler {
  return (payload) => runInMessage(reader, payload.message, () => user({ ...payload, topic: originOf(payload.topic) }));
}

export function inboxEachBatch(user: EachBatchHandler, originOf: (topic: string) => string): EachBatchHandler {
  return (payload) => user({ ...payload, batch: batchView(payload.batch, payload.batch.messages, originOf(payload.batch.topic)) });
}

/**
 * The baseline's handler: messages routed to a live version with an inbox are forwarded there,
 * every other message runs the application's handler in its own context. A forward that fails
 * (broker error, inbox deleted a moment ago) is processed here instead: late, maybe by the wrong
 * version, never lost.
 */
export function baselineEachMessage(
  user: EachMessageHandler,
  reader: MessageOverrideReader,
  selection: SelectiveConsumption,
  forward: KafkaForwarder,
  logger: MessagingLogger,
): EachMessageHandler {
  return async (payload: EachMessagePayload) => {
    const incoming = reader.read(pickHeaders(payload.message.headers, reader.names()));
    const target = selection.forwardTarget(incoming.set, payload.topic);
    if (target !== undefined) {
      try {
        await forward(payload.topic, payload.partition, target, [payload.message]);
        return;
      } catch (error) {
        logger.warn({ topic: payload.topic, partition: payload.partition, version: target, error: (error as Error).message }, "detour: cannot forward to the version's inbox; processing here");
      }
    }
    return context.with(incoming.context, () => user(payload));
  };
}

/**
 * The baseline's batch handler: forwards the batch's messages routed to versions (one send per
 * version), then gives the application the rest as the batch's `messages`. Offsets stay the
 * batch's own (`firstOffset`, `lastOffset` count forwarded messages too), so resolving the last
 * message handled also covers forwarded ones before it; forwarded messages after the last one
 * handled are resolved here when auto-resolve is off. Per-message context in a batch handler:
 * `consumer.detour.withMessage(message, fn)`.
 */
export function baselineEachBatch(
  user: EachBatchHandler,
  reader: MessageOverrideReader,
  selection: SelectiveConsumption,
  forward: KafkaForwarder,
  logger: MessagingLogger,
  autoResolve: boolean,
): EachBatchHandler {
  return async (payload: EachBatchPayload) => {
    const { batch } = payload;
    const targets = new Map<string, KafkaMessage[]>();
    const forwarded = new Set<KafkaMessage>();
    for (const message of batch.messages) {
      const target = selection.forwardTarget(reader.read(pickHeaders(message.headers, reader.names())).set, batch.topic);
      if (target === undefined) continue;
      let list = targets.get(target);
      if (list === undefined) targets.set(target, (list = []));
      list.push(message);
    }
    if (targets.size === 0) return user(payload);
    for (const [version, messages] of targets) {
      try {
        await forward(batch.topic, batch.partition, version, messages);
        for (const message of messages) forwarded.add(message);
      } catch (error) {
        logger.warn({ topic: batch.topic, partition: batch.partition, version, error: (error as Error).message }, "detour: cannot forward to the version's inbox; processing here");
      }
    }
    const local = batch.messages.filter((message) => !forwarded.has(message));
    let resolved: bigint | undefined;
    const lastLocal = local.at(-1);
    if (local.length !== 0) {
      await user({
        ...payload,
        batch: batchView(batch, local, batch.topic),
        resolveOffset: (offset: string) => {
          const value = BigInt(offset);
          if (resolved === undefined || value > resolved) resolved = value;
          payload.resolveOffset(offset);
        },
      });
    }
    // Forwarded messages after the last handled one: nobody else resolves them when auto-resolve is off.
    if (!autoResolve && (lastLocal === undefined || (resolved !== undefined && resolved >= BigInt(lastLocal.offset)))) {
      payload.resolveOffset(batch.lastOffset());
    }
  };
}

/** The batch with other messages (and maybe another topic name); offsets and lag stay the batch's. */
function batchView(batch: Batch, messages: KafkaMessage[], topic: string): Batch {
  if (messages === batch.messages && topic === batch.topic) return batch;
  // kafkajs computes offsets from its own fields, not from `messages` (src/consumer/batch.js).
  return Object.create(batch as object, { messages: { value: messages, enumerable: true }, topic: { value: topic, enumerable: true } }) as Batch;
}
