// @detour/messaging/nats: detour for core NATS with @nats-io/transport-node (docs/messaging.md).
// JetStream: @detour/messaging/jetstream.
export { createDetourSubscription, type DetourNatsControls, type DetourNatsOptions, type DetourNatsSubscription } from "./nats/nats-subscription.js";
export { detourNats } from "./nats/nats-producer.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { DetourProducerOptions } from "./producer-injection.js";
