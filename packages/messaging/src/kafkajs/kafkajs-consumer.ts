import type {
  Admin,
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopic,
  ConsumerSubscribeTopics,
  Kafka,
  KafkaMessage,
  Producer,
} from "kafkajs";
import { DetourError } from "@detour/core";
import { FORWARDED_HEADER } from "../constants.js";
import { kafkaInboxes, kafkaOrigin } from "../kafka-inboxes.js";
import { MessageOverrideReader } from "../message-overrides.js";
import type { DetourConsumerOptions } from "../consumer-options.js";
import { detourControls, startSelection, type DetourControls } from "../consumer-controls.js";
import { kafkaInboxDriver } from "../kafka-inbox-driver.js";
import { kafkajsAdminCalls } from "./kafkajs-admin-calls.js";
import { baselineEachBatch, baselineEachMessage, inboxEachBatch, inboxEachMessage, runInMessage, type KafkaForwarder } from "./kafkajs-handlers.js";

/** What a detour consumer adds to the kafkajs Consumer interface. */
/** What a detour kafkajs consumer adds to the Consumer interface. */
export interface DetourConsumerControls extends DetourControls<KafkaMessage> {
  /** The consumer group actually joined (`<groupId>.detour.<version>` for a version). */
  readonly groupId: string;
}

export type DetourKafkaConsumer = Consumer & { readonly detour: DetourConsumerControls };

/**
 * A kafkajs consumer with detour's selective consumption (docs/messaging.md). Create it instead of
 * `kafka.consumer(config)`; it waits for the topology to know whether `options.workload` is the
 * baseline.
 *
 * - The baseline joins `config.groupId`, consumes the topics, forwards each message whose
 *   override routes its service to another live version with an inbox, and runs the handler for
 *   every other message inside that message's override context.
 * - Another version joins `<groupId>.detour.<version>` and consumes only its inbox topics
 *   (`<topic>.detour.<groupId>.<version>`, created on subscribe with the topic's partition count).
 *   Its handler sees the original topic name.
 *
 * Topics must be named (no RegExp subscriptions): an inbox is made per topic.
 */
export async function createDetourConsumer(kafka: Kafka, config: ConsumerConfig, options: DetourConsumerOptions): Promise<DetourKafkaConsumer> {
  const group = config.groupId;
  const origins: string[] = [];
  let runConfig: ConsumerRunConfig | undefined;
  const admin: Admin = kafka.admin();
  let forwarder: Producer | undefined;

  const originOf = (version: string) => {
    const byInbox = new Map(origins.map((origin) => [kafkaInboxes.topic(origin, group, version), origin]));
    return (topic: string) => byInbox.get(topic) ?? topic;
  };

  const driver = kafkaInboxDriver(kafkajsAdminCalls(admin), group, () => origins, async (version, groupId, topics, touch) => {
    if (runConfig === undefined) throw new DetourError("not-running", "a drain needs the handler given to run()");
    const run = runConfig;
    const drainer = kafka.consumer({ ...config, groupId });
    await drainer.connect();
    try {
      await drainer.subscribe({ topics: [...topics], fromBeginning: true });
      const origin = originOf(version);
      const touched = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
        touch();
        return fn(...args);
      };
      await drainer.run({
        ...run,
        eachMessage: run.eachMessage && touched(inboxEachMessage(run.eachMessage, reader, origin)),
        eachBatch: run.eachBatch && touched(inboxEachBatch(run.eachBatch, origin)),
      });
    } catch (error) {
      await drainer.disconnect();
      throw error;
    }
    return { stop: () => drainer.disconnect() };
  });

  const { workload, logger, selection } = await startSelection(options, "createDetourConsumer", driver);
  const reader = new MessageOverrideReader(() => selection.topology);
  const role = selection.role;
  const groupId = role === "baseline" ? group : kafkaInboxes.group(group, workload.version);
  const consumer = kafka.consumer({ ...config, groupId });
  const ownInbox = (topic: string) => (role === "version" && origins.includes(topic) ? kafkaInboxes.topic(topic, group, workload.version) : topic);

  const forward: KafkaForwarder = async (topic, partition, version, messages) => {
    if (forwarder === undefined) throw new DetourError("not-connected", "the forwarding producer is not connected");
    const inbox = kafkaInboxes.topic(topic, group, version);
    const partitions = driver.inboxPartitions(inbox);
    await forwarder.send({
      topic: inbox,
      acks: -1,
      messages: messages.map((message) => ({
        key: message.key,
        value: message.value,
        timestamp: message.timestamp,
        partition: partitions === undefined ? undefined : partition % partitions,
        headers: { ...message.headers, [FORWARDED_HEADER]: kafkaOrigin(topic, partition, message.offset) },
      })),
    });
  };

  const controls: DetourConsumerControls = { ...detourControls<KafkaMessage>(selection, (message, fn) => runInMessage(reader, message, fn)), groupId };

  const wrapped: DetourKafkaConsumer = {
    ...consumer,
    detour: controls,
    async connect() {
      await admin.connect();
      if (role === "baseline") {
        // No topic auto-creation: a forward to an inbox deleted a moment ago must fail (and be
        // processed here), not re-create the inbox. Few retries for the same reason.
        forwarder = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 100 } });
        await forwarder.connect();
      }
      await consumer.connect();
    },
    async subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic) {
      const topics = "topics" in subscription ? subscription.topics : [subscription.topic];
      for (const topic of topics) {
        if (typeof topic !== "string") {
          throw new DetourError("unsupported-subscription", "createDetourConsumer: subscribe to named topics (a RegExp subscription cannot have per-topic inboxes)");
        }
        if (!origins.includes(topic)) origins.push(topic);
      }
      if (role === "baseline") return consumer.subscribe(subscription);
      await driver.ensureInbox(workload.version);
      // A version's inbox holds only its own messages: read it from the start.
      return consumer.subscribe({ topics: topics.map((topic) => ownInbox(topic as string)), fromBeginning: true });
    },
    async run(given?: ConsumerRunConfig) {
      const run = given ?? {};
      runConfig = run;
      await selection.begin();
      if (role === "baseline") {
        return consumer.run({
          ...run,
          eachMessage: run.eachMessage && baselineEachMessage(run.eachMessage, reader, selection, forward, logger),
          eachBatch: run.eachBatch && baselineEachBatch(run.eachBatch, reader, selection, forward, logger, run.eachBatchAutoResolve ?? true),
        });
      }
      const origin = originOf(workload.version);
      return consumer.run({
        ...run,
        eachMessage: run.eachMessage && inboxEachMessage(run.eachMessage, reader, origin),
        eachBatch: run.eachBatch && inboxEachBatch(run.eachBatch, origin),
      });
    },
    async stop() {
      await selection.stop();
      await consumer.stop();
    },
    async disconnect() {
      await selection.stop();
      await consumer.disconnect();
      await forwarder?.disconnect();
      await admin.disconnect();
    },
    seek: (entry) => consumer.seek({ ...entry, topic: ownInbox(entry.topic) }),
    pause: (topics) => consumer.pause(topics.map((entry) => ({ ...entry, topic: ownInbox(entry.topic) }))),
    resume: (topics) => consumer.resume(topics.map((entry) => ({ ...entry, topic: ownInbox(entry.topic) }))),
  };
  return wrapped;
}
