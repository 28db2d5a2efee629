// @detour/messaging/kafkajs: detour for kafkajs producers and consumers (docs/messaging.md).
export { createDetourConsumer, type DetourConsumerControls, type DetourKafkaConsumer } from "./kafkajs/kafkajs-consumer.js";
export { detourProducer } from "./kafkajs/kafkajs-producer.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { DetourProducerOptions } from "./producer-injection.js";
