import { kafkaInboxes } from "./kafka-inboxes.js";
import type { InboxDriver } from "./selective-consumption.js";

/** The Kafka admin calls the inbox driver needs, implemented once per client library. */
export interface KafkaAdminCalls {
  listTopics(): Promise<string[]>;
  /** Partition count of each topic. */
  partitionCounts(topics: readonly string[]): Promise<Map<string, number>>;
  /** Creates topics that do not exist yet (an existing one is not an error). */
  createTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
  /** Next offset to be written, per partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** The group's committed offset per partition (missing: never committed). */
  committedOffsets(group: string, topic: string): Promise<Map<number, bigint>>;
  /** How many members the group has now. */
  groupMembers(group: string): Promise<number>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  deleteGroup(group: string): Promise<void>;
}

/** Starts a consumer of `version`'s inbox `topics` in `group` (from the start when nothing is committed) running the baseline's handler. */
export type StartDrainConsumer = (version: string, group: string, topics: readonly string[], touch: () => void) => Promise<{ stop(): Promise<void> }>;

export interface KafkaInboxDriver extends InboxDriver {
  /** Partition count of an inbox topic, when the last listing saw it. */
  inboxPartitions(topic: string): number | undefined;
}

/**
 * Inboxes on Kafka, for any client library: one topic per origin topic and version
 * (kafkaInboxes.topic), read in the version's group (kafkaInboxes.group).
 */
export function kafkaInboxDriver(admin: KafkaAdminCalls, group: string, origins: () => readonly string[], startDrainConsumer: StartDrainConsumer): KafkaInboxDriver {
  const partitions = new Map<string, number>();

  const inboxTopicsOf = async (version: string): Promise<string[]> => {
    const existing = new Set(await admin.listTopics());
    return origins()
      .map((origin) => kafkaInboxes.topic(origin, group, version))
      .filter((topic) => existing.has(topic));
  };

  return {
    inboxPartitions: (topic) => partitions.get(topic),

    async listInboxes() {
      const inboxes = new Map<string, Set<string>>();
      const unknown: string[] = [];
      for (const topic of await admin.listTopics()) {
        for (const origin of origins()) {
          const version = kafkaInboxes.version(topic, origin, group);
          if (version === undefined) continue;
          let keys = inboxes.get(version);
          if (keys === undefined) inboxes.set(version, (keys = new Set()));
          keys.add(origin);
          if (!partitions.has(topic)) unknown.push(topic);
        }
      }
      if (unknown.length !== 0) for (const [topic, count] of await admin.partitionCounts(unknown)) partitions.set(topic, count);
      return inboxes;
    },

    async ensureInbox(version) {
      const counts = await admin.partitionCounts(origins());
      await admin.createTopics([...counts].map(([origin, count]) => ({ topic: kafkaInboxes.topic(origin, group, version), partitions: count })));
    },

    async startDrain(version) {
      const topics = await inboxTopicsOf(version);
      const groupId = kafkaInboxes.group(group, version);
      const drain: { lastActivityAt: number; stop(): Promise<void>; isEmpty(): Promise<boolean> } = {
        lastActivityAt: Date.now(),
        stop: async () => undefined,
        async isEmpty() {
          for (const topic of topics) {
            const [end, committed] = await Promise.all([admin.endOffsets(topic), admin.committedOffsets(groupId, topic)]);
            // No partitions in the answer means the broker could not say (metadata not there yet): not known to be empty.
            if (end.size === 0) return false;
            for (const [partition, next] of end) if (next > 0n && (committed.get(partition) ?? -1n) < next) return false;
          }
          return true;
        },
      };
      const consumer = await startDrainConsumer(version, groupId, topics, () => (drain.lastActivityAt = Date.now()));
      drain.stop = () => consumer.stop();
      return drain;
    },

    async removeInbox(version) {
      const groupId = kafkaInboxes.group(group, version);
      if ((await admin.groupMembers(groupId)) !== 0) return false;
      const topics = await inboxTopicsOf(version);
      if (topics.length !== 0) await admin.deleteTopics(topics);
      for (const topic of topics) partitions.delete(topic);
      await admin.deleteGroup(groupId).catch(() => undefined);
      return true;
    },
  };
}
