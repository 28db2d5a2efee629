import type { Admin } from "kafkajs";
import type { KafkaAdminCalls } from "../kafka-inbox-driver.js";

/** The inbox driver's admin calls on a kafkajs Admin. */
export function kafkajsAdminCalls(admin: Admin): KafkaAdminCalls {
  return {
    listTopics: () => admin.listTopics(),
    async partitionCounts(topics) {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
      return new Map(found.map(({ name, partitions }) => [name, partitions.length]));
    },
    async createTopics(topics) {
      await admin.createTopics({ waitForLeaders: true, topics: topics.map(({ topic, partitions }) => ({ topic, numPartitions: partitions })) });
    },
    async endOffsets(topic) {
      return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    },
    async committedOffsets(groupId, topic) {
      const [found] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map((found?.partitions ?? []).filter((p) => p.offset !== "-1").map((p) => [p.partition, BigInt(p.offset)]));
    },
    async groupMembers(groupId) {
      const { groups } = await admin.describeGroups([groupId]);
      return groups[0]?.members.length ?? 0;
    },
    deleteTopics: (topics) => admin.deleteTopics({ topics: [...topics] }),
    async deleteGroup(groupId) {
      await admin.deleteGroups([groupId]);
    },
  };
}
