// Overhead of @detour/messaging per message against the plain client, on real brokers, same run.
//
//   npm run build && "$(scripts/install-node 22)" bench/messaging.ts [--messages 20000] [--rounds 5]
//     [--clients kafkajs,platformatic-kafka,amqplib,nats,jetstream]
//
// Runs on Node >= 22.18 as TypeScript (type stripping), with the BUILT packages, so it measures
// what users run. It starts its own brokers (the messaging suite's rig: Kafka, RabbitMQ and
// nats-server on loopback ports, stopped by PID at the end). For each client and round, the three
// pipelines run back to back (order rotating): one consumer, already
// joined, then N messages produced in batches of 500 and the clock stopped when the consumer has
// handled all N. The detour pipeline produces through detour's producer wrapper inside a request
// context carrying an override (`pricing=v2`: every message carries it, none is forwarded) and
// consumes as the baseline with each message handled in its context; the plain and headers
// pipelines use the client as is (see Variant). Reported, never asserted: the median per-message
// time of each and the ratios, per round too (a shared machine makes single rounds noisy).
import { setTimeout as sleep } from "node:timers/promises";
import { setupDetour, withOverrides } from "@detour/otel";
import { fixedTopology } from "@detour/messaging";
import type { DetourKafkaConsumer } from "@detour/messaging/kafkajs";
import { startBrokers, type Brokers } from "../test/messaging/support/brokers.ts";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : (args[i + 1] ?? fallback);
};
const MESSAGES = Number(option("--messages", "20000"));
const ROUNDS = Number(option("--rounds", "5"));
const CLIENTS = option("--clients", "kafkajs,platformatic-kafka,amqplib,nats,jetstream").split(",");
const BATCH = 500;
const OVERRIDE = "pricing=v2";

setupDetour({ http: false, undici: false });
process.env.KAFKAJS_NO_PARTITIONER_WARNING = "1";
const topology = fixedTopology({ services: { ledger: { baseline: "v1", versions: ["v1", "v2"] } } });
const detourOptions = { workload: "ledger/v1", topology };

/** One producer and one consumer, consumer ready before send() is first called. */
interface Pipeline {
  send(values: string[]): Promise<void>;
  handled(): number;
  stop(): Promise<void>;
}

/**
 * plain: the client as is, messages without headers. headers: the client as is, each message
 * carrying the same two headers detour writes (x-detour and the baggage member), set by hand:
 * what carrying the override costs the client itself. detour: detour's wrappers.
 */
type Variant = "plain" | "headers" | "detour";
const HAND_HEADERS = { "x-detour": OVERRIDE, baggage: "detour=pricing%3Dv2" };
type PipelineFactory = (brokers: Brokers, variant: Variant, name: string) => Promise<Pipeline>;

/** The per-message work every variant does in the handler: read the payload. */
const work = (value: string) => value.length;

const { headers: natsHeaders } = await import("@nats-io/transport-node");
/** HAND_HEADERS as NATS headers: a new one per message, as a producer builds them. */
function natsHandHeaders() {
  const h = natsHeaders();
  for (const [name, value] of Object.entries(HAND_HEADERS)) h.set(name, value);
  return h;
}

const pipelines: Record<string, { broker: "kafka" | "amqp" | "nats"; open: PipelineFactory }> = {
  kafkajs: {
    broker: "kafka",
    async open(brokers, variant, name) {
      const { Kafka, logLevel } = await import("kafkajs");
      const { createDetourConsumer, detourProducer } = await import("@detour/messaging/kafkajs");
      const kafka = new Kafka({ brokers: [brokers.endpoints.kafka!], clientId: "bench", logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: 3 }] });
      await admin.disconnect();
      const plain = kafka.producer();
      await plain.connect();
      const producer = variant === "detour" ? detourProducer(plain) : plain;
      const config = { groupId: name, maxWaitTimeInMs: 50 };
      const consumer = variant === "detour" ? await createDetourConsumer(kafka, config, detourOptions) : kafka.consumer(config);
      let count = 0;
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.connect();
      await consumer.subscribe({ topics: [name], fromBeginning: true });
      const withMessage = variant === "detour" ? (consumer as DetourKafkaConsumer).detour.withMessage : <T>(_m: unknown, fn: () => T) => fn();
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) withMessage(message, () => work(message.value!.toString()));
          count += batch.messages.length;
        },
      });
      await joined;
      return {
        send: async (values) => void (await producer.send({ topic: name, messages: values.map((value) => (variant === "headers" ? { value, headers: { ...HAND_HEADERS } } : { value })) })),
        handled: () => count,
        async stop() {
          await consumer.disconnect();
          await plain.disconnect();
        },
      };
    },
  },
  amqplib: {
    broker: "amqp",
    async open(brokers, variant, name) {
      const { default: amqp } = await import("amqplib");
      const { createDetourConsumer, detourChannel } = await import("@detour/messaging/amqplib");
      const connection = await amqp.connect(brokers.endpoints.amqp!);
      const plain = await connection.createConfirmChannel();
      await plain.assertQueue(name, { durable: true });
      const channel = variant === "detour" ? detourChannel(plain) : plain;
      let count = 0;
      let stopConsumer: () => Promise<void>;
      if (variant === "detour") {
        const consumer = await createDetourConsumer(connection, { queue: name, prefetch: 200 }, detourOptions);
        await consumer.consume((message) => {
          work(message.content.toString());
          count++;
          consumer.channel.ack(message);
        });
        stopConsumer = () => consumer.close();
      } else {
        const consuming = await connection.createChannel();
        await consuming.prefetch(200);
        await consuming.consume(name, (message) => {
          if (message === null) return;
          work(message.content.toString());
          count++;
          consuming.ack(message);
        });
        stopConsumer = () => consuming.close();
      }
      return {
        async send(values) {
          for (const value of values) channel.sendToQueue(name, Buffer.from(value), variant === "headers" ? { persistent: true, headers: { ...HAND_HEADERS } } : { persistent: true });
          await plain.waitForConfirms();
        },
        handled: () => count,
        async stop() {
          await stopConsumer();
          await connection.close();
        },
      };
    },
  },
  "platformatic-kafka": {
    broker: "kafka",
    async open(brokers, variant, name) {
      const { Admin, Consumer, Producer, stringDeserializers, stringSerializers } = await import("@platformatic/kafka");
      const { createDetourConsumer, detourProducer } = await import("@detour/messaging/platformatic-kafka");
      const bootstrapBrokers = [brokers.endpoints.kafka!];
      const admin = new Admin({ clientId: "bench", bootstrapBrokers });
      await admin.createTopics({ topics: [name], partitions: 3, replicas: 1 });
      await admin.close();
      const plain = new Producer({ clientId: "bench", bootstrapBrokers, serializers: stringSerializers });
      const producer = variant === "detour" ? detourProducer(plain) : plain;
      const options = { groupId: name, clientId: "bench", bootstrapBrokers, deserializers: stringDeserializers, maxWaitTime: 50 };
      const consumer = variant === "detour" ? await createDetourConsumer(options, detourOptions) : undefined;
      const client = consumer?.consumer ?? new Consumer(options);
      const stream = consumer !== undefined ? await consumer.consume({ topics: [name], mode: "earliest" }) : await client.consume({ topics: [name], mode: "earliest" });
      const withMessage = consumer !== undefined ? consumer.detour.withMessage : <T>(_m: unknown, fn: () => T) => fn();
      let count = 0;
      void (async () => {
        for await (const message of stream) {
          withMessage(message, () => work(message.value));
          count++;
        }
      })();
      return {
        send: async (values) => void (await producer.send({ messages: values.map((value) => (variant === "headers" ? { topic: name, value, headers: { ...HAND_HEADERS } } : { topic: name, value })) })),
        handled: () => count,
        async stop() {
          if (consumer !== undefined) await consumer.close(true);
          else await client.close(true);
          await plain.close();
        },
      };
    },
  },
  jetstream: {
    broker: "nats",
    async open(brokers, variant, name) {
      const { connect } = await import("@nats-io/transport-node");
      const { AckPolicy, jetstream, jetstreamManager } = await import("@nats-io/jetstream");
      const { createDetourJetStreamConsumer, detourJetStream } = await import("@detour/messaging/jetstream");
      const nc = await connect({ servers: brokers.endpoints.nats! });
      const stream = name.replace(/[^A-Za-z0-9_-]/g, "_");
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      await jsm.consumers.add(stream, { durable_name: stream, ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      const producer = variant === "detour" ? detourJetStream(js) : js;
      const decoder = new TextDecoder();
      let count = 0;
      let stopConsumer: () => Promise<void>;
      if (variant === "detour") {
        const consumer = await createDetourJetStreamConsumer(nc, { stream, consumer: stream }, detourOptions);
        await consumer.start((message) => {
          work(decoder.decode(message.data));
          count++;
          message.ack();
        });
        stopConsumer = () => consumer.close();
      } else {
        const messages = await (await js.consumers.get(stream, stream)).consume();
        void (async () => {
          for await (const message of messages) {
            work(decoder.decode(message.data));
            count++;
            message.ack();
          }
        })();
        stopConsumer = () => messages.close().then(() => undefined);
      }
      return {
        send: async (values) => void (await Promise.all(values.map((value) => producer.publish(`${stream}.created`, value, variant === "headers" ? { headers: natsHandHeaders() } : undefined)))),
        handled: () => count,
        async stop() {
          await stopConsumer();
          await nc.close();
        },
      };
    },
  },
  nats: {
    broker: "nats",
    async open(brokers, variant, name) {
      const { connect } = await import("@nats-io/transport-node");
      const { createDetourSubscription, detourNats } = await import("@detour/messaging/nats");
      const nc = await connect({ servers: brokers.endpoints.nats! });
      const producer = variant === "detour" ? detourNats(nc) : nc;
      const decoder = new TextDecoder();
      let count = 0;
      let stopConsumer: () => Promise<void>;
      if (variant === "detour") {
        const subscription = await createDetourSubscription(nc, { subject: `${name}.>`, queue: name }, detourOptions);
        await subscription.start((message) => {
          work(decoder.decode(message.data));
          count++;
        });
        stopConsumer = () => subscription.close();
      } else {
        const subscription = nc.subscribe(`${name}.>`, { queue: name, callback: (_error, message) => void (work(decoder.decode(message.data)), count++) });
        await nc.flush();
        stopConsumer = () => subscription.drain();
      }
      return {
        async send(values) {
          for (const value of values) producer.publish(`${name}.created`, value, variant === "headers" ? { headers: natsHandHeaders() } : undefined);
          await nc.flush();
        },
        handled: () => count,
        async stop() {
          await stopConsumer();
          await nc.close();
        },
      };
    },
  },
};

/** Milliseconds from the first send until the consumer has handled every message. */
async function timeRun(pipeline: Pipeline, variant: Variant): Promise<number> {
  const values = Array.from({ length: MESSAGES }, (_, i) => JSON.stringify({ id: i, at: "2026-01-01T00:00:00Z", amount: 12.5 }));
  const produce = async () => {
    for (let i = 0; i < values.length; i += BATCH) await pipeline.send(values.slice(i, i + BATCH));
  };
  const started = performance.now();
  if (variant === "detour") await withOverrides(OVERRIDE, produce);
  else await produce();
  while (pipeline.handled() < MESSAGES) await sleep(2);
  return performance.now() - started;
}

/**
 * The wrapper's own CPU per message, without a broker (less noisy than the pipelines): the
 * producer side (the override to carry, written into a header record) against copying the record,
 * and the consumer side (headers picked, override read, handler entered in its context) against
 * calling the handler.
 */
async function cpuPerMessage(): Promise<void> {
  const { context } = await import("@opentelemetry/api");
  const { MessageOverrideReader, outgoingOverride, pickHeaders, writeOutgoingOverride } = await import("@detour/messaging");
  const reader = new MessageOverrideReader(() => topology.current());
  const headers = { "x-detour": Buffer.from(OVERRIDE), baggage: Buffer.from("detour=pricing%3Dv2") };
  const handler = (value: number) => value + 1;
  const loop = (fn: (i: number) => unknown) => {
    const n = 200_000;
    for (let i = 0; i < 20_000; i++) fn(i);
    const started = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return ((performance.now() - started) * 1000) / n;
  };
  const producePlain = loop(() => ({ ...headers }));
  const produceDetour = withOverrides(OVERRIDE, () => loop(() => {
    const copy: Record<string, unknown> = { ...headers };
    const outgoing = outgoingOverride();
    if (outgoing !== undefined) writeOutgoingOverride(copy, outgoing);
    return copy;
  }));
  const consumePlain = loop((i) => handler(i));
  const consumeDetour = loop((i) => context.with(reader.read(pickHeaders(headers, reader.names())).context, () => handler(i)));
  console.log(`cpu per message: produce ${producePlain.toFixed(2)} -> ${produceDetour.toFixed(2)} µs, consume ${consumePlain.toFixed(2)} -> ${consumeDetour.toFixed(2)} µs (plain -> detour)`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const wanted = CLIENTS.map((name) => {
  const entry = pipelines[name];
  if (entry === undefined) throw new Error(`unknown client ${name}: one of ${Object.keys(pipelines).join(", ")}`);
  return [name, entry] as const;
});
const brokers = await startBrokers([...new Set(wanted.map(([, entry]) => entry.broker))]);
console.log(`messaging overhead: ${MESSAGES} messages per run, ${ROUNDS} rounds, Node ${process.versions.node}; medians per message`);
await cpuPerMessage();
try {
  for (const [name, entry] of wanted) {
    const times: Record<Variant, number[]> = { plain: [], headers: [], detour: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const variants: Variant[] = ["plain", "headers", "detour"];
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const variant of order) {
        const pipeline = await entry.open(brokers, variant, `bench-${name}-${variant}-${round}`);
        // One message through first: connections, metadata and the consumer's assignment are warm.
        await pipeline.send([JSON.stringify({ id: -1 })]);
        while (pipeline.handled() < 1) await sleep(5);
        const warm = pipeline.handled();
        const elapsed = await timeRun({ ...pipeline, handled: () => pipeline.handled() - warm }, variant);
        times[variant].push(elapsed);
        await pipeline.stop();
      }
    }
    const us = (ms: number) => ((ms * 1000) / MESSAGES).toFixed(1);
    const [plain, headers, detour] = [median(times.plain), median(times.headers), median(times.detour)];
    const ratios = (of: Variant, to: Variant) => times[to].map((t, i) => (times[of][i]! / t).toFixed(2)).join(" ");
    console.log(
      `${name.padEnd(18)} plain ${us(plain)}  headers ${us(headers)}  detour ${us(detour)} µs/msg   detour/plain ${(detour / plain).toFixed(2)}x (rounds ${ratios("detour", "plain")})   detour/headers ${(detour / headers).toFixed(2)}x (rounds ${ratios("detour", "headers")})`,
    );
  }
} finally {
  await brokers.stop();
}
