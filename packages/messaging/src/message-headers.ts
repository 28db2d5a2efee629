import { propagation } from "@opentelemetry/api";
import { TOKEN_HEADER } from "@detour/core";

/**
 * Message headers as the broker clients hand them over: strings, Buffers (kafkajs,
 * @platformatic/kafka), numbers, arrays of those for repeated keys. Returns the text, or
 * undefined for anything else (never throws on a foreign producer's data).
 */
export function headerText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) {
    let text: string | undefined;
    for (const item of value as unknown[]) {
      const line = headerText(item);
      if (line !== undefined) text = text === undefined ? line : `${text},${line}`;
    }
    return text;
  }
  return undefined;
}

/**
 * The lower-case header names a consumer reads from a message: the carrier names of its config
 * (x-detour, baggage, alias headers), the override token, and the fields of the registered
 * OpenTelemetry propagator (traceparent, ...), so a handler continues the producer's trace even
 * where no messaging instrumentation extracted it.
 */
export function consumedHeaderNames(carrierNames: readonly string[]): readonly string[] {
  const names = new Set<string>([...carrierNames, TOKEN_HEADER]);
  for (const field of propagation.fields()) names.add(field.toLowerCase());
  return Object.freeze([...names]);
}

/**
 * Picks `names` (lower-case) out of a header record, case-insensitively, as text: the input of
 * readCarriers / incomingOverrides. Only the few names asked for are decoded.
 */
export function pickHeaders(record: Readonly<Record<string, unknown>> | undefined, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  if (record === undefined || record === null) return picked;
  for (const key in record) {
    for (const name of names) {
      if (!sameName(key, name)) continue;
      const text = headerText(record[key]);
      if (text !== undefined) picked[name] = picked[name] === undefined ? text : `${picked[name]},${text}`;
      break;
    }
  }
  return picked;
}

/** Like pickHeaders for entries whose keys may themselves be Buffers (@platformatic/kafka's Map). */
export function pickHeaderEntries(entries: Iterable<readonly [unknown, unknown]> | undefined, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  if (entries === undefined || entries === null) return picked;
  for (const [rawKey, value] of entries) {
    const key = headerText(rawKey);
    if (key === undefined) continue;
    for (const name of names) {
      if (!sameName(key, name)) continue;
      const text = headerText(value);
      if (text !== undefined) picked[name] = picked[name] === undefined ? text : `${picked[name]},${text}`;
      break;
    }
  }
  return picked;
}

/** Header names are case-insensitive; `lower` is already lower-case. */
function sameName(key: string, lower: string): boolean {
  return key === lower || (key.length === lower.length && key.toLowerCase() === lower);
}
