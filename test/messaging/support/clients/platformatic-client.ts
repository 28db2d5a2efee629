import { Admin, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import type { TopologySource } from "@detour/messaging";
import { createDetourConsumer, detourProducer, type DetourPlatformaticConsumer } from "@detour/messaging/platformatic-kafka";
import type { BrokerEndpoints, ClientHarness, HarnessConsumer, OpenClient } from "./client-harness.js";
import { KAFKA_PARTITIONS, kafkaTakeoverBoundMs } from "./kafkajs-client.js";

/** @platformatic/kafka's engines field: Node >= 22.22 (or >= 24.6 on 24). */
function platformaticUnsupported(): string | undefined {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major > 24 || (major === 24 && minor >= 6) || (major === 22 && minor >= 22) || major === 23) return undefined;
  return "needs Node >= 22.22 or >= 24.6 (its engines field; it uses Promise.withResolvers)";
}

export const platformaticHarness: ClientHarness = {
  name: "@platformatic/kafka",
  broker: "kafka",
  worker: "platformatic-kafka",
  takeoverBoundMs: kafkaTakeoverBoundMs,
  unsupported: platformaticUnsupported(),
  open: openPlatformatic,
};

async function openPlatformatic(brokers: BrokerEndpoints, topic: string): Promise<OpenClient> {
  if (brokers.kafka === undefined) throw new Error("@platformatic/kafka needs the Kafka broker");
  const bootstrapBrokers = [brokers.kafka];
  const admin = new Admin({ clientId: "detour-suite-admin", bootstrapBrokers });
  await admin.createTopics({ topics: [topic], partitions: KAFKA_PARTITIONS, replicas: 1 });
  const plain = new Producer({ clientId: "detour-suite", bootstrapBrokers, serializers: stringSerializers });
  const producer = detourProducer(plain);
  const consumers: DetourPlatformaticConsumer<string, string, string, string>[] = [];
  return {
    produce: async (values) => void (await producer.send({ messages: values.map((value) => ({ topic, value })) })),
    produceRaw: async (value, headers) => void (await plain.send({ messages: [{ topic, value, headers: { ...headers } }] })),
    async consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer> {
      const consumer = await createDetourConsumer(
        { groupId: group, clientId: `detour-suite-${workload}`, bootstrapBrokers, deserializers: stringDeserializers, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTime: 200 },
        { workload, topology, reconcileMs: 500 },
      );
      consumers.push(consumer);
      const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest" });
      void (async () => {
        for await (const message of stream) await consumer.detour.withMessage(message, () => handler(message.value));
      })();
      return { role: consumer.detour.role, status: () => consumer.detour.status(), reconcile: () => consumer.detour.reconcile(), stop: () => consumer.close(true) };
    },
    async close() {
      for (const consumer of consumers) await consumer.close(true).catch(() => undefined);
      await plain.close();
      await admin.close();
    },
  };
}
