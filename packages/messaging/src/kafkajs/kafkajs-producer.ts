import type { Message, Producer, ProducerBatch, ProducerRecord, Transaction } from "kafkajs";
import { outgoingOverride, writeOutgoingOverride, type OutgoingOverride } from "../outgoing-override.js";
import { producerInjection, type DetourProducerOptions } from "../producer-injection.js";

/**
 * Wraps a kafkajs producer so every message sent while an override is active carries it
 * (`x-detour`, the `detour` baggage member, `x-detour-token`), in `send`, `sendBatch` and inside
 * transactions. Messages are copied, never mutated; sends with nothing to carry pass through as
 * they are. Compose it over a producer that @opentelemetry/instrumentation-kafkajs patched: the
 * instrumentation injects after this into the same header keys.
 */
export function detourProducer(producer: Producer, options?: DetourProducerOptions): Producer {
  const injection = producerInjection(options, "detourProducer");
  const record = <R extends ProducerRecord>(value: R): R => {
    const outgoing = outgoingOverride(injection());
    return outgoing === undefined ? value : { ...value, messages: carry(value.messages, outgoing) };
  };
  const batch = (value: ProducerBatch): ProducerBatch => {
    const outgoing = outgoingOverride(injection());
    if (outgoing === undefined || value.topicMessages === undefined) return value;
    return { ...value, topicMessages: value.topicMessages.map((topic) => ({ ...topic, messages: carry(topic.messages, outgoing) })) };
  };
  const wrapTransaction = (transaction: Transaction): Transaction => ({
    ...transaction,
    send: (value) => transaction.send(record(value)),
    sendBatch: (value) => transaction.sendBatch(batch(value)),
  });
  return {
    ...producer,
    send: (value) => producer.send(record(value)),
    sendBatch: (value) => producer.sendBatch(batch(value)),
    transaction: async () => wrapTransaction(await producer.transaction()),
  };
}

function carry(messages: readonly Message[], outgoing: OutgoingOverride): Message[] {
  return messages.map((message) => {
    const headers: Record<string, unknown> = { ...message.headers };
    writeOutgoingOverride(headers, outgoing);
    return { ...message, headers: headers as Message["headers"] };
  });
}
