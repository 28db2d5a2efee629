import type { Channel, Options } from "amqplib";
import { overriding } from "../overriding.js";
import { outgoingOverride, writeOutgoingOverride } from "../outgoing-override.js";
import { producerInjection, type DetourProducerOptions } from "../producer-injection.js";

/**
 * Wraps an amqplib channel (or confirm channel) so every message published while an override is
 * active carries it in its headers (`x-detour`, the `detour` baggage member, `x-detour-token`):
 * `publish` and `sendToQueue`, confirm callbacks included. The options object is copied, never
 * mutated; publishes with nothing to carry pass through as they are. Everything else is the
 * channel itself.
 */
export function detourChannel<C extends Channel>(channel: C, options?: DetourProducerOptions): C {
  const injection = producerInjection(options, "detourChannel");
  const carried = (publish: Options.Publish | undefined): Options.Publish | undefined => {
    const outgoing = outgoingOverride(injection());
    if (outgoing === undefined) return publish;
    const headers: Record<string, unknown> = { ...publish?.headers };
    writeOutgoingOverride(headers, outgoing);
    return { ...publish, headers };
  };
  const publish = (exchange: string, routingKey: string, content: Buffer, publishOptions?: Options.Publish, ...rest: unknown[]) =>
    (channel.publish as (...args: unknown[]) => boolean).call(channel, exchange, routingKey, content, carried(publishOptions), ...rest);
  const sendToQueue = (queue: string, content: Buffer, publishOptions?: Options.Publish, ...rest: unknown[]) =>
    (channel.sendToQueue as (...args: unknown[]) => boolean).call(channel, queue, content, carried(publishOptions), ...rest);
  return overriding(channel, { publish, sendToQueue });
}
