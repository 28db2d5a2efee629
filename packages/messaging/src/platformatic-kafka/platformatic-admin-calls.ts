import type { Admin } from "@platformatic/kafka";
import type { KafkaAdminCalls } from "../kafka-inbox-driver.js";

/** The inbox driver's admin calls on a @platformatic/kafka Admin. */
export function platformaticAdminCalls(admin: Admin): KafkaAdminCalls {
  return {
    listTopics: () => admin.listTopics(),
    async partitionCounts(topics) {
      const metadata = await admin.metadata({ topics: [...topics] });
      return new Map([...metadata.topics].map(([name, topic]) => [name, topic.partitionsCount]));
    },
    async createTopics(topics) {
      const existing = new Set(await admin.listTopics());
      for (const { topic, partitions } of topics) {
        if (existing.has(topic)) continue;
        try {
          await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
        } catch (error) {
          // Another consumer of the same version created it a moment ago.
          if (!(await admin.listTopics()).includes(topic)) throw error;
        }
      }
    },
    async endOffsets(topic) {
      const metadata = await admin.metadata({ topics: [topic] });
      const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
      const [listed] = await admin.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
      });
      return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
    },
    async committedOffsets(groupId, topic) {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const found = group?.topics.find((t) => t.name === topic);
      return new Map((found?.partitions ?? []).filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, p.committedOffset]));
    },
    async groupMembers(groupId) {
      const groups = await admin.describeGroups({ groups: [groupId] });
      return groups.get(groupId)?.members.size ?? 0;
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics: [...topics] }),
    deleteGroup: (groupId) => admin.deleteGroups({ groups: [groupId] }),
  };
}
