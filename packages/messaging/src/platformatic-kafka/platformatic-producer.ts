import { kOptions, type MessageToProduce, type Producer, type SendOptions } from "@platformatic/kafka";
import { BAGGAGE_HEADER, DETOUR_HEADER, TOKEN_HEADER } from "@detour/core";
import { headerText } from "../message-headers.js";
import { overriding } from "../overriding.js";
import { outgoingOverride, writeOutgoingOverride, type OutgoingOverride } from "../outgoing-override.js";
import { producerInjection, type DetourProducerOptions } from "../producer-injection.js";

export interface DetourPlatformaticProducerOptions extends DetourProducerOptions {
  /**
   * How the producer serializes header keys and values: "buffer" (no header serializers, the
   * client's default) or "string" (string serializers). Default: read from the producer's options.
   */
  readonly headers?: "buffer" | "string";
}

/**
 * Wraps a @platformatic/kafka producer's `send` so every message sent while an override is active
 * carries it (`x-detour`, the `detour` baggage member, `x-detour-token`), as Buffers or strings to
 * match the producer's header serializers. Messages are copied, never mutated; sends with nothing
 * to carry pass through as they are. Everything else is the producer itself.
 */
export function detourProducer<K, V, HK, HV>(producer: Producer<K, V, HK, HV>, options?: DetourPlatformaticProducerOptions): Producer<K, V, HK, HV> {
  const injection = producerInjection(options, "detourProducer");
  const asText = (options?.headers ?? (usesHeaderSerializers(producer) ? "string" : "buffer")) === "string";
  const encode = (text: string): unknown => (asText ? text : Buffer.from(text, "utf8"));
  const carried = (sendOptions: SendOptions<K, V, HK, HV>): SendOptions<K, V, HK, HV> => {
    const outgoing = outgoingOverride(injection());
    if (outgoing === undefined) return sendOptions;
    return { ...sendOptions, messages: sendOptions.messages.map((message) => carry(message, outgoing, encode)) };
  };
  return withSend(producer, carried, (transaction) => withSend(transaction, carried));
}

type Sender<K, V, HK, HV> = { send(options: SendOptions<K, V, HK, HV>, ...rest: unknown[]): unknown };

/**
 * A proxy whose `send` (promise or callback style) passes through `carried` first; with
 * `transactions`, `beginTransaction` resolves to such a proxy too (a transaction sends through the
 * producer it was begun on, not through this proxy).
 */
function withSend<T extends object, K, V, HK, HV>(target: T, carried: (options: SendOptions<K, V, HK, HV>) => SendOptions<K, V, HK, HV>, transactions?: (transaction: object) => object): T {
  const send = (options: SendOptions<K, V, HK, HV>, ...rest: unknown[]) => (target as unknown as Sender<K, V, HK, HV>).send(carried(options), ...rest);
  const members: Record<PropertyKey, unknown> = { send };
  if (transactions !== undefined) {
    members.beginTransaction = async (...args: unknown[]) => transactions(await (target as unknown as { beginTransaction(...a: unknown[]): Promise<object> }).beginTransaction(...args));
  }
  return overriding(target, members);
}

/** Header serializers configured means header values are not Buffers already (string or custom serializers). */
function usesHeaderSerializers(producer: object): boolean {
  const configured = (producer as unknown as Record<symbol, { serializers?: { headerValue?: unknown } } | undefined>)[kOptions];
  return configured?.serializers?.headerValue !== undefined;
}

function carry<K, V, HK, HV>(message: MessageToProduce<K, V, HK, HV>, outgoing: OutgoingOverride, encode: (text: string) => unknown): MessageToProduce<K, V, HK, HV> {
  const headers = new Map<unknown, unknown>();
  // detour's carriers the message already has, as text, for writeOutgoingOverride to merge into.
  const carriers: Record<string, unknown> = {};
  const entries = message.headers instanceof Map ? [...message.headers] : Object.entries(message.headers ?? {});
  for (const [key, value] of entries) {
    const name = headerText(key);
    if (name !== undefined && CARRIERS.has(name.toLowerCase())) carriers[name] = headerText(value);
    else headers.set(key, value);
  }
  writeOutgoingOverride(carriers, outgoing);
  for (const [name, value] of Object.entries(carriers)) if (typeof value === "string") headers.set(encode(name), encode(value));
  return { ...message, headers: headers as Map<HK, HV> };
}

const CARRIERS: ReadonlySet<string> = new Set([DETOUR_HEADER, BAGGAGE_HEADER, TOKEN_HEADER]);
