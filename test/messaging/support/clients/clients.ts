import type { ClientHarness } from "./client-harness.js";
import { amqplibHarness } from "./amqplib-client.js";
import { kafkajsHarness } from "./kafkajs-client.js";
import { jetstreamHarness, natsHarness } from "./nats-client.js";
import { platformaticHarness } from "./platformatic-client.js";

/** Every client the suite runs, in the order the matrix lists them. */
export const CLIENTS: readonly ClientHarness[] = [kafkajsHarness(false), kafkajsHarness(true), platformaticHarness, amqplibHarness, natsHarness, jetstreamHarness];

/** The clients of the selective-consumption runs (consumers in worker processes). */
export const SELECTIVE_CLIENTS: readonly ClientHarness[] = [kafkajsHarness(true), platformaticHarness, amqplibHarness, natsHarness, jetstreamHarness];
