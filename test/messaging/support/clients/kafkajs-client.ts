import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import type { TopologySource } from "@detour/messaging";
import { createDetourConsumer, detourProducer } from "@detour/messaging/kafkajs";
import type { BrokerEndpoints, ClientHarness, HarnessConsumer, OpenClient, TakeoverTimings } from "./client-harness.js";

/** Partitions of the suite's topics: more than one, so forwarding keeps partitions apart. */
export const KAFKA_PARTITIONS = 3;

/** kafkajs with an eachMessage handler (`batch: false`) or an eachBatch handler using consumer.detour.withMessage. */
export function kafkajsHarness(batch: boolean): ClientHarness {
  return {
    name: batch ? "kafkajs eachBatch" : "kafkajs eachMessage",
    broker: "kafka",
    worker: "kafkajs",
    takeoverBoundMs: kafkaTakeoverBoundMs,
    unsupported: undefined,
    open: (brokers, topic) => openKafkajs(brokers, topic, batch),
  };
}

async function openKafkajs(brokers: BrokerEndpoints, topic: string, batch: boolean): Promise<OpenClient> {
  if (brokers.kafka === undefined) throw new Error("kafkajs needs the Kafka broker");
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
  const kafka = new Kafka({ brokers: [brokers.kafka], clientId: "detour-suite", logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: KAFKA_PARTITIONS }] });
  const plain: Producer = kafka.producer();
  await plain.connect();
  const producer = detourProducer(plain);
  const consumers: Consumer[] = [];
  return {
    produce: async (values) => void (await producer.send({ topic, messages: values.map((value) => ({ value })) })),
    produceRaw: async (value, headers) => void (await plain.send({ topic, messages: [{ value, headers: { ...headers } }] })),
    async consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer> {
      const consumer = await createDetourConsumer(
        kafka,
        { groupId: group, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 200 },
        { workload, topology, reconcileMs: 500 },
      );
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      if (batch) {
        await consumer.run({
          eachBatch: async ({ batch: { messages }, resolveOffset }) => {
            for (const message of messages) {
              await consumer.detour.withMessage(message, () => handler(message.value?.toString() ?? ""));
              resolveOffset(message.offset);
            }
          },
        });
      } else {
        await consumer.run({ eachMessage: ({ message }) => handler(message.value?.toString() ?? "") });
      }
      return { role: consumer.detour.role, status: () => consumer.detour.status(), reconcile: () => consumer.detour.reconcile(), stop: () => consumer.disconnect() };
    },
    async close() {
      for (const consumer of consumers) await consumer.disconnect();
      await plain.disconnect();
      await admin.disconnect();
    },
  };
}

/**
 * Kafka's takeover bound (docs/messaging.md): the topology's staleness, one reconcile interval to
 * start the drain, the dead member's session timeout before its partitions are reassigned, and
 * one rebalance plus fetch (at most 10 s).
 */
export function kafkaTakeoverBoundMs(timings: TakeoverTimings): number {
  return timings.refreshMs + timings.requestTimeoutMs + timings.reconcileMs + timings.sessionTimeoutMs + 10_000;
}
