// @detour/messaging/amqplib: detour for amqplib (RabbitMQ) publishers and consumers (docs/messaging.md).
export { createDetourConsumer, type DetourAmqpConsumer, type DetourAmqpControls, type DetourAmqpOptions } from "./amqplib/amqplib-consumer.js";
export { detourChannel } from "./amqplib/amqplib-producer.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { DetourProducerOptions } from "./producer-injection.js";
