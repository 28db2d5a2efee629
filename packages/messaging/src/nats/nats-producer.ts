import { headers as createHeaders, type NatsConnection, type PublishOptions, type RequestOptions } from "@nats-io/transport-node";
import { natsHeadersWith } from "../nats-headers.js";
import { overriding } from "../overriding.js";
import { outgoingOverride } from "../outgoing-override.js";
import { producerInjection, type DetourProducerOptions } from "../producer-injection.js";

/**
 * Wraps a NATS connection so every message published while an override is active carries it in
 * its headers (`x-detour`, the `detour` baggage member, `x-detour-token`): `publish`, `request`
 * and `requestMany`. Headers are copied, never mutated; messages with nothing to carry pass
 * through as they are. Everything else (subscribe, drain, close, ...) is the connection itself.
 */
export function detourNats<C extends NatsConnection>(nc: C, options?: DetourProducerOptions): C {
  const injection = producerInjection(options, "detourNats");
  const carried = <O extends PublishOptions | RequestOptions | undefined>(given: O): O => {
    const outgoing = outgoingOverride(injection());
    if (outgoing === undefined) return given;
    return { ...given, headers: natsHeadersWith(given?.headers, outgoing, () => createHeaders()) } as O;
  };
  const wrapped: Partial<Record<PropertyKey, unknown>> = {
    publish: (subject: string, payload?: unknown, opts?: PublishOptions) => nc.publish(subject, payload as never, carried(opts)),
    request: (subject: string, payload?: unknown, opts?: RequestOptions) => nc.request(subject, payload as never, carried(opts)),
    requestMany: (subject: string, payload?: unknown, opts?: Parameters<NatsConnection["requestMany"]>[2]) =>
      nc.requestMany(subject, payload as never, carried(opts as RequestOptions) as never),
  };
  return overriding(nc, wrapped);
}
