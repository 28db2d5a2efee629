import type { BrokerEndpoints } from "./clients/client-harness.js";
import { startKafka, type KafkaBroker } from "./kafka-broker.ts";
import { startNats, type NatsBroker } from "./nats-broker.ts";
import { startRabbitMq, type RabbitMqBroker } from "./rabbitmq-broker.ts";

export interface Brokers {
  readonly endpoints: BrokerEndpoints;
  stop(): Promise<void>;
}

/** Starts the brokers a file needs (each at most once, in parallel) and stops them all by PID. */
export async function startBrokers(kinds: readonly (keyof BrokerEndpoints)[]): Promise<Brokers> {
  const wanted = new Set(kinds);
  const started: { kafka?: KafkaBroker; amqp?: RabbitMqBroker; nats?: NatsBroker } = {};
  const stop = async () => {
    await Promise.all([started.kafka?.stop(), started.amqp?.stop(), started.nats?.stop()]);
  };
  const results = await Promise.allSettled([
    wanted.has("kafka") ? startKafka().then((broker) => (started.kafka = broker)) : undefined,
    wanted.has("amqp") ? startRabbitMq().then((broker) => (started.amqp = broker)) : undefined,
    wanted.has("nats") ? startNats().then((broker) => (started.nats = broker)) : undefined,
  ]);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return {
    endpoints: { kafka: started.kafka?.bootstrap, amqp: started.amqp?.url, nats: started.nats?.url },
    stop,
  };
}
