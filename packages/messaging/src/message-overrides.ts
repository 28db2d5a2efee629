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
    return incomingOverrides(picked, this.#options(), parent);
  }
}
