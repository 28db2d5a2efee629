// The public surface of @detour/messaging (broker-neutral). Each broker client has its own entry
// point: @detour/messaging/kafkajs, ...
export { FORWARDED_HEADER } from "./constants.js";
export type { DetourConsumerOptions } from "./consumer-options.js";
export type { DetourProducerOptions } from "./producer-injection.js";
export type { MessagingLogger } from "./messaging-logger.js";
export { createTopologyClient, type TopologyClient, type TopologyClientOptions } from "./topology-client.js";
export { fixedTopology, type FixedTopology, type TopologySource } from "./topology-source.js";
export { topologyFromFile, type TopologyFileOptions } from "./topology-file.js";
export { injectOverride, outgoingOverride, writeOutgoingOverride, type OutgoingOverride } from "./outgoing-override.js";
export { headerText, pickHeaders } from "./message-headers.js";
export { MessageOverrideReader } from "./message-overrides.js";
export type { ConsumerRole } from "./selective-consumption.js";
export { parseWorkload, type Workload } from "./workload.js";
