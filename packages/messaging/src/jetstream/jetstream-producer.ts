import type { JetStreamClient, JetStreamPublishOptions } from "@nats-io/jetstream";
import { headers as createHeaders } from "@nats-io/transport-node";
import { natsHeadersWith } from "../nats-headers.js";
import { overriding } from "../overriding.js";
import { outgoingOverride } from "../outgoing-override.js";
import { producerInjection, type DetourProducerOptions } from "../producer-injection.js";

/**
 * Wraps a JetStream client so every message published while an override is active carries it in
 * its headers (`x-detour`, the `detour` baggage member, `x-detour-token`). Headers are copied,
 * never mutated; messages with nothing to carry pass through as they are.
 */
export function detourJetStream<J extends JetStreamClient>(js: J, options?: DetourProducerOptions): J {
  const injection = producerInjection(options, "detourJetStream");
  const publish = (subject: string, payload?: unknown, opts?: Partial<JetStreamPublishOptions>) => {
    const outgoing = outgoingOverride(injection());
    const carried = outgoing === undefined ? opts : { ...opts, headers: natsHeadersWith(opts?.headers, outgoing, () => createHeaders()) };
    return js.publish(subject, payload as never, carried);
  };
  return overriding(js, { publish });
}
