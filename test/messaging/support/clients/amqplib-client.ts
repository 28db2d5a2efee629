import amqp, { type ChannelModel } from "amqplib";
import type { TopologySource } from "@detour/messaging";
import { createDetourConsumer, detourChannel, type DetourAmqpConsumer } from "@detour/messaging/amqplib";
import type { BrokerEndpoints, ClientHarness, HarnessConsumer, OpenClient, TakeoverTimings } from "./client-harness.js";

export const amqplibHarness: ClientHarness = {
  name: "amqplib",
  broker: "amqp",
  worker: "amqplib",
  takeoverBoundMs: amqpTakeoverBoundMs,
  unsupported: undefined,
  open: openAmqplib,
};

/**
 * RabbitMQ's takeover bound (docs/messaging.md): the topology's staleness and one reconcile
 * interval; a dead consumer's unacknowledged messages are back in its inbox as soon as the broker
 * sees its connection close. Plus 5 s for the drain's consumer to start and finish on a loaded machine.
 */
export function amqpTakeoverBoundMs(timings: TakeoverTimings): number {
  return timings.refreshMs + timings.requestTimeoutMs + timings.reconcileMs + 5_000;
}

/** A fanout exchange named after the run's destination; each consumer service binds its own queue to it. */
async function openAmqplib(brokers: BrokerEndpoints, destination: string): Promise<OpenClient> {
  if (brokers.amqp === undefined) throw new Error("amqplib needs the RabbitMQ broker");
  const connection: ChannelModel = await amqp.connect(brokers.amqp);
  const plain = await connection.createConfirmChannel();
  await plain.assertExchange(destination, "fanout", { durable: true });
  const channel = detourChannel(plain);
  const consumers: DetourAmqpConsumer[] = [];
  const connections: ChannelModel[] = [];
  return {
    async produce(values) {
      for (const value of values) channel.publish(destination, "", Buffer.from(value), { persistent: true });
      await plain.waitForConfirms();
    },
    async produceRaw(value, headers) {
      plain.publish(destination, "", Buffer.from(value), { persistent: true, headers: { ...headers } });
      await plain.waitForConfirms();
    },
    async consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer> {
      // Each consumer its own connection, as each version runs in its own process.
      const own = await amqp.connect(brokers.amqp!);
      connections.push(own);
      const setup = await own.createChannel();
      await setup.assertQueue(group, { durable: true });
      await setup.bindQueue(group, destination, "");
      await setup.close();
      const consumer = await createDetourConsumer(own, { queue: group }, { workload, topology, reconcileMs: 500 });
      consumers.push(consumer);
      await consumer.consume(async (message) => {
        await handler(message.content.toString("utf8"));
        consumer.channel.ack(message);
      });
      return { role: consumer.detour.role, status: () => consumer.detour.status(), reconcile: () => consumer.detour.reconcile(), stop: () => consumer.close() };
    },
    async close() {
      for (const consumer of consumers) await consumer.close().catch(() => undefined);
      for (const own of connections) await own.close().catch(() => undefined);
      await connection.close();
    },
  };
}
