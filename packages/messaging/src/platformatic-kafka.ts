// @detour/messaging/platformatic-kafka: detour for @platformatic/kafka producers and consumers (docs/messaging.md).
export { createDetourConsumer, type DetourPlatformaticConsumer, type DetourStreamControls } from "./platformatic-kafka/platformatic-consumer.js";
export { detourProducer, type DetourPlatformaticProducerOptions } from "./platformatic-kafka/platformatic-producer.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { PumpedStream } from "./message-pump.js";
