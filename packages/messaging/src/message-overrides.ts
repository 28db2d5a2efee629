import { context, type Context } from "@opentelemetry/api";
import type { Topology } from "@detour/core";
import { incomingOverrides, type IncomingOverrides, type ReadOverrideOptions } from "@detour/otel";
import { consumedHeaderNames } from "./message-headers.js";

/**
 * Reads a consumed message's override the way the sidecars read a request's: with the aliases and
 * limits of the topology in use (the server's detour.yaml), or fixed options when given.
 */
export class MessageOverrideReader {
  readonly #topology: () => Topology | undefined;
  readonly #fixed: ReadOverrideOptions | undefined;
  #namesFor: readonly unknown[] | undefined;
  readonly #cache = new WeakMap<Context, { aliases: ReadOverrideOptions["aliases"]; entries: Map<string, IncomingOverrides> }>();
  #names: readonly string[] = [];

  constructor(topology: () => Topology | undefined, fixed?: ReadOverrideOptions) {
    this.#topology = topology;
    this.#fixed = fixed;
  }

  #options(): ReadOverrideOptions {
    if (this.#fixed !== undefined) return this.#fixed;
    const topology = this.#topology();
    return topology === undefined ? {} : { aliases: topology.aliases, limits: topology.limits };
  }

  /** Lower-case header names worth decoding from a message (recomputed when the aliases change). */
  names(): readonly string[] {
    const aliases = this.#options().aliases ?? [];
    if (this.#namesFor !== aliases) {
      this.#names = consumedHeaderNames(aliases);
      this.#namesFor = aliases;
    }
    return this.#names;
  }

  /**
   * The message's override and the context its handler runs in: `parent` (the active context,
   * which an OpenTelemetry messaging instrumentation has already built from the message) with
   * exactly this message's override and token; an inherited override is dropped.
   */
  read(picked: Readonly<Record<string, string>>, parent: Context = context.active()): IncomingOverrides {
    const options = this.#options();
    // Consecutive messages of a stream usually carry the same headers and are read under the
    // same parent (the client's, or the topology's aliases' would differ): answer those from a
    // small cache instead of extracting again. Contexts are immutable, so sharing one is safe.
    const key = cacheKey(picked);
    let byKey = this.#cache.get(parent);
    if (byKey === undefined || byKey.aliases !== options.aliases) {
      byKey = { aliases: options.aliases, entries: new Map() };
      this.#cache.set(parent, byKey);
    }
    const cached = byKey.entries.get(key);
    if (cached !== undefined) return cached;
    const read = incomingOverrides(picked, options, parent);
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
