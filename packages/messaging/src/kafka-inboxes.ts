import { DetourError, isValidVersion } from "@detour/core";
import { INBOX_SEGMENT } from "./constants.js";

/** Kafka topic names: at most 249 characters of [a-zA-Z0-9._-] (Kafka's Topic.validate). */
const TOPIC_CHARS = /[^a-zA-Z0-9._-]/g;
const MAX_TOPIC_LENGTH = 249;

/**
 * Naming of detour's Kafka objects, shared by the kafkajs and @platformatic/kafka wrappers so a
 * baseline on one client can forward to a version on the other.
 *
 * - a version's inbox for origin topic T: `T.detour.<group>.<version>` (same partition count as T)
 * - the consumer group reading it (the version, or the baseline draining it): `<group>.detour.<version>`
 */
export const kafkaInboxes = {
  topic(origin: string, group: string, version: string): string {
    const name = `${origin}.${INBOX_SEGMENT}.${group.replace(TOPIC_CHARS, "_")}.${version}`;
    if (name.length > MAX_TOPIC_LENGTH) {
      throw new DetourError("name-too-long", `inbox topic '${name.slice(0, 60)}...' would be longer than Kafka's ${MAX_TOPIC_LENGTH} characters: shorten the topic, group or version`);
    }
    return name;
  },

  group(group: string, version: string): string {
    return `${group}.${INBOX_SEGMENT}.${version}`;
  },

  /** The version whose inbox `topic` is for origin `origin`, or undefined when it is not one. */
  version(topic: string, origin: string, group: string): string | undefined {
    const prefix = `${origin}.${INBOX_SEGMENT}.${group.replace(TOPIC_CHARS, "_")}.`;
    if (!topic.startsWith(prefix)) return undefined;
    const version = topic.slice(prefix.length);
    return isValidVersion(version) ? version : undefined;
  },
};

/** `kafka:<topic>/<partition>/<offset>`: the FORWARDED_HEADER value of a forwarded Kafka message. */
export function kafkaOrigin(topic: string, partition: number, offset: string | bigint): string {
  return `kafka:${topic}/${partition}/${offset}`;
}
