import { context } from "@opentelemetry/api";
import { Admin, Consumer, Producer, type ConsumeOptions, type ConsumerOptions, type Deserializers, type Message } from "@platformatic/kafka";
import { DetourError } from "@detour/core";
import { FORWARDED_HEADER } from "../constants.js";
import type { DetourConsumerOptions } from "../consumer-options.js";
import { detourControls, startSelection, type DetourControls } from "../consumer-controls.js";
import { kafkaInboxDriver } from "../kafka-inbox-driver.js";
import { kafkaInboxes, kafkaOrigin } from "../kafka-inboxes.js";
import { pickHeaderEntries } from "../message-headers.js";
import { MessageOverrideReader } from "../message-overrides.js";
import { MessagePump, type PumpedStream } from "../message-pump.js";
import { platformaticAdminCalls } from "./platformatic-admin-calls.js";

/** What a detour @platformatic/kafka consumer exposes as `consumer.detour`. */
export interface DetourStreamControls<K, V, HK, HV> extends DetourControls<Message<K, V, HK, HV>> {
  /** The consumer group actually joined (`<groupId>.detour.<version>` for a version). */
  readonly groupId: string;
}

export interface DetourPlatformaticConsumer<K, V, HK, HV> {
  /** The underlying consumer (in the role's group), for everything detour does not wrap. */
  readonly consumer: Consumer<K, V, HK, HV>;
  readonly detour: DetourStreamControls<K, V, HK, HV>;
  /**
   * Starts consuming: the baseline forwards other versions' messages and hands on the rest, a
   * version hands on its inbox (with the origin topic name). Drained inboxes of stopped versions
   * arrive on the same stream. One stream per consumer.
   */
  consume(options: ConsumeOptions<K, V, HK, HV>): Promise<PumpedStream<Message<K, V, HK, HV>>>;
  close(force?: boolean): Promise<void>;
}

/** Where the raw record of a consumed message is kept (message.metadata), for forwarding it byte for byte. */
const RAW = Symbol("detour.raw-record");

interface RawRecord {
  readonly key: Buffer | undefined;
  readonly value: Buffer | undefined;
  readonly headers: readonly (readonly [Buffer | null, Buffer | null])[];
}

/** Options of the base client every helper client (admin, forwarding producer) is created with. */
const BASE_OPTION_KEYS = ["clientId", "clientRack", "bootstrapBrokers", "timeout", "retries", "retryDelay", "metadataMaxAge", "strict", "connectTimeout", "requestTimeout", "maxInflights", "tls", "ssl", "tlsServerName", "sasl"] as const;

/**
 * A @platformatic/kafka consumer with detour's selective consumption (docs/messaging.md). Create
 * it instead of `new Consumer(options)`; it waits for the topology to know whether
 * `detour.workload` is the baseline. Consume as usual and wrap each message's handling in
 * `consumer.detour.withMessage(message, fn)`: a stream cannot put its reader's loop in a context.
 *
 * Schema-registry deserialization is not supported: forwarding needs the raw record.
 */
export async function createDetourConsumer<K = Buffer, V = Buffer, HK = Buffer, HV = Buffer>(
  options: ConsumerOptions<K, V, HK, HV>,
  detour: DetourConsumerOptions,
): Promise<DetourPlatformaticConsumer<K, V, HK, HV>> {
  if ((options as { registry?: unknown }).registry !== undefined) {
    throw new DetourError("unsupported-options", "createDetourConsumer: a schema registry is not supported (forwarding needs each message's raw record): use deserializers");
  }
  const group = options.groupId;
  const given = options as unknown as Record<string, unknown>;
  const base = Object.fromEntries(BASE_OPTION_KEYS.filter((key) => given[key] !== undefined).map((key) => [key, given[key]]));
  const admin = new Admin({ ...base, clientId: `${options.clientId}-detour-admin` } as ConstructorParameters<typeof Admin>[0]);
  const origins: string[] = [];
  let pump: MessagePump<Message<K, V, HK, HV>> | undefined;
  let consumeOptions: ConsumeOptions<K, V, HK, HV> | undefined;
  const commits = new ForwardedCommits();
  // The client merges consume-level deserializers under the consumer's (consumer-level wins), so the
  // raw-keeping value deserializer goes on every consumer, and a consume-level value deserializer
  // the application gives later is used through it.
  const raw = keepRaw(options.deserializers);
  const withRaw = { ...options, deserializers: raw.deserializers };

  const originOf = (version: string) => {
    const byInbox = new Map(origins.map((origin) => [kafkaInboxes.topic(origin, group, version), origin]));
    return (topic: string) => byInbox.get(topic) ?? topic;
  };
  const inboxHandler = (version: string, touch?: () => void) => {
    const origin = originOf(version);
    return async (message: Message<K, V, HK, HV>) => {
      touch?.();
      return commits.handedOn({ ...message, topic: origin(message.topic) });
    };
  };

  const driver = kafkaInboxDriver(platformaticAdminCalls(admin), group, () => origins, async (version, groupId, topics, touch) => {
    if (pump === undefined || consumeOptions === undefined) throw new DetourError("not-running", "a drain needs the stream consume() returned");
    const drainer = new Consumer<K, V, HK, HV>({ ...withRaw, groupId, clientId: `${options.clientId}-detour-drain` });
    const source = await drainer.consume({ ...consumeOptions, topics: [...topics], mode: "committed", fallbackMode: "earliest" });
    pump.add(source, inboxHandler(version, touch));
    return {
      async stop() {
        await pump?.remove(source);
        await drainer.close(true);
      },
    };
  });

  const { workload, logger, selection } = await startSelection(detour, "createDetourConsumer", driver);
  const reader = new MessageOverrideReader(() => selection.topology);
  const role = selection.role;
  const groupId = role === "baseline" ? group : kafkaInboxes.group(group, workload.version);
  const consumer = new Consumer<K, V, HK, HV>({ ...withRaw, groupId });
  // No topic auto-creation: a forward to an inbox deleted a moment ago must fail (and be processed here).
  const forwarder = role === "baseline" ? new Producer({ ...base, clientId: `${options.clientId}-detour-forward`, autocreateTopics: false, retries: 2 } as ConstructorParameters<typeof Producer>[0]) : undefined;

  const forward = async (message: Message<K, V, HK, HV>, version: string): Promise<void> => {
    const raw = (message.metadata as Record<PropertyKey, unknown>)[RAW] as RawRecord | undefined;
    if (raw === undefined || forwarder === undefined) throw new DetourError("not-forwardable", "the message has no raw record");
    const inbox = kafkaInboxes.topic(message.topic, group, version);
    const partitions = driver.inboxPartitions(inbox);
    const headers = new Map<Buffer, Buffer>();
    for (const [key, value] of raw.headers) if (key !== null && key.toString("utf8") !== FORWARDED_HEADER) headers.set(key, value ?? Buffer.alloc(0));
    headers.set(Buffer.from(FORWARDED_HEADER), Buffer.from(kafkaOrigin(message.topic, message.partition, message.offset)));
    await forwarder.send({
      acks: -1,
      autocreateTopics: false,
      messages: [{ topic: inbox, key: raw.key, value: raw.value, headers, timestamp: message.timestamp, partition: partitions === undefined ? undefined : message.partition % partitions }],
    });
  };

  const baselineHandler = async (message: Message<K, V, HK, HV>) => {
    const incoming = reader.read(pickHeaderEntries(message.headers, reader.names()));
    const target = selection.forwardTarget(incoming.set, message.topic);
    if (target !== undefined) {
      try {
        await forward(message, target);
        await commits.forwarded(message);
        return undefined;
      } catch (error) {
        logger.warn({ topic: message.topic, partition: message.partition, version: target, error: (error as Error).message }, "detour: cannot forward to the version's inbox; processing here");
      }
    }
    return commits.handedOn(message);
  };

  return {
    consumer,
    detour: { ...detourControls<Message<K, V, HK, HV>>(selection, (message, fn) => context.with(reader.read(pickHeaderEntries(message.headers, reader.names())).context, fn)), groupId },
    async consume(given) {
      if (pump !== undefined) throw new DetourError("already-consuming", "createDetourConsumer: consume() was already called; one stream per consumer");
      for (const topic of given.topics) if (!origins.includes(topic)) origins.push(topic);
      consumeOptions = given;
      commits.manual = given.autocommit === false || (given.autocommit === undefined && options.autocommit === false);
      pump = new MessagePump();
      raw.consumeLevel(given.deserializers?.value);
      if (role === "baseline") {
        pump.add(await consumer.consume(given), baselineHandler);
      } else {
        await driver.ensureInbox(workload.version);
        const topics = given.topics.map((topic) => kafkaInboxes.topic(topic, group, workload.version));
        // A version's inbox holds only its own messages: read it from the start.
        pump.add(await consumer.consume({ ...given, topics, mode: "committed", fallbackMode: "earliest" }), inboxHandler(workload.version));
      }
      await selection.begin();
      return pump.stream;
    },
    async close(force) {
      await selection.stop();
      await pump?.close();
      await consumer.close(force);
      await forwarder?.close();
      await admin.close();
    },
  };
}

/**
 * The deserializers with one addition: the value deserializer (called once per record, last)
 * keeps the raw key, value and headers in the message's metadata, which the client copies from
 * the record it hands to deserializers. Without a consumer-level value deserializer it uses the
 * consume-level one (`consumeLevel`), else hands on the Buffer.
 */
function keepRaw<K, V, HK, HV>(deserializers: Partial<Deserializers<K, V, HK, HV>> | undefined): {
  deserializers: Partial<Deserializers<K, V, HK, HV>>;
  consumeLevel(value: Deserializers<K, V, HK, HV>["value"] | undefined): void;
} {
  let value = deserializers?.value;
  const keeping = ((data: Buffer | undefined, headers: Map<HK, HV> | undefined, record: unknown) => {
    const consumed = record as { key?: Buffer | null; value?: Buffer | null; headers?: [Buffer | null, Buffer | null][]; metadata?: Record<PropertyKey, unknown> } | undefined;
    if (consumed !== undefined) {
      const kept: RawRecord = { key: consumed.key ?? undefined, value: consumed.value ?? undefined, headers: consumed.headers ?? [] };
      consumed.metadata = { ...consumed.metadata, [RAW]: kept };
    }
    return value === undefined ? (data as V | undefined) : value(data, headers, record as never);
  }) as Deserializers<K, V, HK, HV>["value"];
  return {
    deserializers: { ...deserializers, value: keeping },
    consumeLevel(given) {
      if (deserializers?.value === undefined) value = given;
    },
  };
}

/**
 * Commits of forwarded messages when the application commits by hand (`autocommit: false`). A
 * Kafka commit covers everything before it in the partition, so a forwarded message is committed
 * only when every message handed on before it in that partition has been committed by the
 * application; until then the latest one waits.
 */
class ForwardedCommits {
  manual = false;
  readonly #outstanding = new Map<string, number>();
  readonly #waiting = new Map<string, Message<unknown, unknown, unknown, unknown>>();

  handedOn<M extends Message<unknown, unknown, unknown, unknown>>(message: M): M {
    if (!this.manual) return message;
    const key = `${message.topic}/${message.partition}`;
    this.#outstanding.set(key, (this.#outstanding.get(key) ?? 0) + 1);
    const commit = message.commit;
    let done = false;
    return {
      ...message,
      commit: (callback?: (error?: Error) => void) => {
        const result = commit(callback);
        if (!done) {
          done = true;
          const left = (this.#outstanding.get(key) ?? 1) - 1;
          this.#outstanding.set(key, left);
          const waiting = this.#waiting.get(key);
          if (left === 0 && waiting !== undefined) {
            this.#waiting.delete(key);
            void waiting.commit();
          }
        }
        return result;
      },
    };
  }

  async forwarded(message: Message<unknown, unknown, unknown, unknown>): Promise<void> {
    if (!this.manual) return;
    const key = `${message.topic}/${message.partition}`;
    if ((this.#outstanding.get(key) ?? 0) === 0) await message.commit();
    else this.#waiting.set(key, message);
  }
}
