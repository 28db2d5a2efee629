import { context, type Context } from "@opentelemetry/api";
import { createCarrierConfig, type CarrierConfig, type CarrierOptions, type Topology } from "@detour/core";
import { incomingOverrides, type IncomingOverrides } from "@detour/otel";
import { consumedHeaderNames } from "./message-headers.js";

/**
 * Reads a consumed message's override the way the sidecars read a request's: with the aliases and
 * limits of the topology in use (the server's detour.yaml), or fixed options when given (checked
 * here: bad ones throw DetourError).
 */
export class MessageOverrideReader {
  readonly #topology: () => Topology | undefined;
  readonly #fixed: CarrierConfig | undefined;
  #namesFor: CarrierConfig | undefined;
  #names: readonly string[] = [];
  readonly #cache = new WeakMap<Context, { config: CarrierConfig; entries: Map<string, IncomingOverrides> }>();

  constructor(topology: () => Topology | undefined, fixed?: CarrierOptions) {
    this.#topology = topology;
    this.#fixed = fixed === undefined ? undefined : createCarrierConfig(fixed, "MessageOverrideReader");
  }

  #config(): CarrierConfig {
    return this.#fixed ?? this.#topology()?.carriers ?? createCarrierConfig();
  }

  /** Lower-case header names worth decoding from a message (recomputed when the aliases change). */
  names(): readonly string[] {
    const config = this.#config();
    if (this.#namesFor !== config) {
      this.#names = consumedHeaderNames(config.headerNames);
      this.#namesFor = config;
    }
    return this.#names;
  }

  /**
   * The message's override and the context its handler runs in: `parent` (the active context,
   * which an OpenTelemetry messaging instrumentation has already built from the message) with
   * exactly this message's override and token; an inherited override is dropped.
   */
  read(picked: Readonly<Record<string, string>>, parent: Context = context.active()): IncomingOverrides {
    const config = this.#config();
    // Consecutive messages of a stream usually carry the same headers and are read under the
    // same parent (the client's) and config: answer those from a small cache instead of
    // extracting again. Contexts are immutable, so sharing one is safe.
    const key = cacheKey(picked);
    let byKey = this.#cache.get(parent);
    if (byKey === undefined || byKey.config !== config) {
      byKey = { config, entries: new Map() };
      this.#cache.set(parent, byKey);
    }
    const cached = byKey.entries.get(key);
    if (cached !== undefined) return cached;
    const read = incomingOverrides(picked, config, parent);
    if (byKey.entries.size >= READ_CACHE_LIMIT) byKey.entries.clear();
    byKey.entries.set(key, read);
    return read;
  }
}

/**
 * Distinct header sets remembered per parent context. A stream carries a handful of overrides at
 * a time; messages with their own trace context (each a new key) fill it and empty it, which
 * bounds memory and costs them no more than reading without a cache.
 */
const READ_CACHE_LIMIT = 64;

function cacheKey(picked: Readonly<Record<string, string>>): string {
  let key = "";
  for (const name in picked) key += `${name}\u0000${picked[name]}\u0000`;
  return key;
}
