import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { TopologySource } from "@detour/messaging";
import { createDetourJetStreamConsumer, detourJetStream, type DetourJetStreamConsumer } from "@detour/messaging/jetstream";
import { createDetourSubscription, detourNats, type DetourNatsSubscription } from "@detour/messaging/nats";
import type { BrokerEndpoints, ClientHarness, HarnessConsumer, OpenClient, TakeoverTimings } from "./client-harness.js";

/** How long the suite's JetStream inbox consumers wait for an ack before redelivering (ms). */
export const JETSTREAM_ACK_WAIT_MS = 5_000;
/** How long the core NATS baseline waits for a version to confirm a forward (ms): the default. */
export const NATS_FORWARD_TIMEOUT_MS = 5_000;

export const natsHarness: ClientHarness = {
  name: "NATS core",
  broker: "nats",
  worker: "nats",
  // A dead version's in-flight forwards come back after the confirmation timeout; new ones at once ("no responders").
  takeoverBoundMs: () => NATS_FORWARD_TIMEOUT_MS + 5_000,
  unsupported: undefined,
  open: openNats,
};

export const jetstreamHarness: ClientHarness = {
  name: "NATS JetStream",
  broker: "nats",
  worker: "jetstream",
  takeoverBoundMs: jetstreamTakeoverBoundMs,
  unsupported: undefined,
  open: openJetStream,
};

/**
 * JetStream's takeover bound (docs/messaging.md): the topology's staleness, one reconcile interval
 * to start the drain, the inbox consumer's ack_wait before a dead version's unacknowledged
 * messages are redelivered, and 5 s for the drain to start and finish on a loaded machine.
 */
export function jetstreamTakeoverBoundMs(timings: TakeoverTimings): number {
  return timings.refreshMs + timings.requestTimeoutMs + timings.reconcileMs + JETSTREAM_ACK_WAIT_MS + 5_000;
}

/** Names JetStream accepts for streams and durable consumers (no '.', spaces, '*' or '>'). */
export const jetstreamName = (text: string) => text.replace(/[^A-Za-z0-9_-]/g, "_");

async function openNats(brokers: BrokerEndpoints, destination: string): Promise<OpenClient> {
  if (brokers.nats === undefined) throw new Error("NATS needs the nats-server");
  const nc = await connect({ servers: brokers.nats });
  const producer = detourNats(nc);
  const subject = `${destination}.created`;
  const owned: { sub: DetourNatsSubscription; nc: NatsConnection }[] = [];
  return {
    async produce(values) {
      for (const value of values) producer.publish(subject, value);
      await nc.flush();
    },
    async produceRaw(value, headers) {
      const { headers: createHeaders } = await import("@nats-io/transport-node");
      const h = createHeaders();
      for (const [name, text] of Object.entries(headers)) h.set(name, text);
      nc.publish(subject, value, { headers: h });
      await nc.flush();
    },
    async consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer> {
      const own = await connect({ servers: brokers.nats });
      const sub = await createDetourSubscription(own, { subject: `${destination}.>`, queue: group, forwardTimeoutMs: NATS_FORWARD_TIMEOUT_MS }, { workload, topology, reconcileMs: 500 });
      owned.push({ sub, nc: own });
      await sub.start((message) => handler(new TextDecoder().decode(message.data)));
      return {
        role: sub.detour.role,
        status: () => sub.detour.status(),
        reconcile: () => sub.detour.reconcile(),
        stop: async () => {
          await sub.close();
          await own.close();
        },
      };
    },
    async close() {
      for (const { sub, nc: own } of owned) {
        await sub.close().catch(() => undefined);
        await own.close().catch(() => undefined);
      }
      await nc.close();
    },
  };
}

async function openJetStream(brokers: BrokerEndpoints, destination: string): Promise<OpenClient> {
  if (brokers.nats === undefined) throw new Error("JetStream needs the nats-server");
  const nc = await connect({ servers: brokers.nats });
  const stream = jetstreamName(destination);
  const subject = `${stream}.created`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const js = jetstream(nc);
  const producer = detourJetStream(js);
  const owned: { consumer: DetourJetStreamConsumer; nc: NatsConnection }[] = [];
  return {
    async produce(values) {
      await Promise.all(values.map((value) => producer.publish(subject, value)));
    },
    async produceRaw(value, headers) {
      const { headers: createHeaders } = await import("@nats-io/transport-node");
      const h = createHeaders();
      for (const [name, text] of Object.entries(headers)) h.set(name, text);
      await js.publish(subject, value, { headers: h });
    },
    async consume(workload: string, group: string, topology: TopologySource, handler: (value: string) => Promise<void>): Promise<HarnessConsumer> {
      const own = await connect({ servers: brokers.nats });
      const durable = jetstreamName(group);
      await (await jetstreamManager(own)).consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit });
      const consumer = await createDetourJetStreamConsumer(own, { stream, consumer: durable, ackWaitMs: JETSTREAM_ACK_WAIT_MS }, { workload, topology, reconcileMs: 500 });
      owned.push({ consumer, nc: own });
      await consumer.start(async (message) => {
        await handler(new TextDecoder().decode(message.data));
        message.ack();
      });
      return {
        role: consumer.detour.role,
        status: () => consumer.detour.status(),
        reconcile: () => consumer.detour.reconcile(),
        stop: async () => {
          await consumer.close();
          await own.close();
        },
      };
    },
    async close() {
      for (const { consumer, nc: own } of owned) {
        await consumer.close().catch(() => undefined);
        await own.close().catch(() => undefined);
      }
      await nc.close();
    },
  };
}
