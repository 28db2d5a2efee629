// @detour/messaging/jetstream: detour for NATS JetStream with @nats-io/jetstream (docs/messaging.md).
export { createDetourJetStreamConsumer, type DetourJetStreamConsumer, type DetourJetStreamControls, type DetourJetStreamOptions } from "./jetstream/jetstream-consumer.js";
export { detourJetStream } from "./jetstream/jetstream-producer.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { DetourProducerOptions } from "./producer-injection.js";
