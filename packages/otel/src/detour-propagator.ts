import {
  defaultTextMapSetter,
  diag,
  propagation,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from "@opentelemetry/api";
import { isTracingSuppressed, W3CBaggagePropagator } from "@opentelemetry/core";
import {
  BAGGAGE_HEADER,
  BAGGAGE_MEMBER,
  baggageWithOverride,
  DETOUR_HEADER,
  OverrideSet,
  readCarriers,
  TOKEN_HEADER,
  type CarrierConfig,
} from "@detour/core";
import { getOverrides, setOverrides } from "./override-context.js";
import { getOverrideToken, setOverrideToken, tokenFromHeader } from "./override-token.js";
import { carrierConfigFromOptions, type ReadOverrideOptions } from "./read-options.js";

export type DetourPropagatorOptions = ReadOverrideOptions;

const FIELDS: readonly string[] = Object.freeze([DETOUR_HEADER, BAGGAGE_HEADER, TOKEN_HEADER]);

/**
 * OpenTelemetry TextMapPropagator for detour overrides.
 *
 * extract: reads every carrier (x-detour, the baggage `detour` member, configured aliases) with
 * @detour/core's precedence and limits, and stores the winner in the context as the `detour`
 * baggage entry. Other baggage entries in the context are kept.
 *
 * inject: writes `x-detour` and a `baggage` header that holds the `detour` member first and every
 * other member unchanged. Place it AFTER W3CBaggagePropagator in a CompositePropagator (setupDetour
 * does): extract then merges into the baggage that W3CBaggagePropagator just replaced, and inject
 * rewrites the header W3CBaggagePropagator just set, so exactly one `detour` member goes out.
 * Placed before it, W3CBaggagePropagator's own header wins; it serializes the same context
 * baggage, so the member still goes out once, only not first.
 *
 * The signed override token (`x-detour-token`) travels beside the override: extract keeps the
 * carrier's first valid value under a private context key (never in baggage: it is a credential)
 * and drops an inherited one when the carrier has none; inject writes it back unchanged, so
 * `trust: token` sidecars deeper in the mesh can verify it (see override-token.ts).
 *
 * Nothing is injected while tracing is suppressed (OpenTelemetry's signal for its own exporter
 * traffic, also set by instrumentation-http's ignoreIncomingRequestHook), as W3CBaggagePropagator
 * and B3Propagator do.
 */
export class DetourPropagator implements TextMapPropagator {
  /** Checked at construction (DetourError naming the field); extract only reads with it. */
  readonly #config: CarrierConfig;
  /** Serializes the non-detour baggage when the carrier cannot be read back (see #baggageBase). */
  readonly #baggage = new W3CBaggagePropagator();

  constructor(options?: DetourPropagatorOptions) {
    this.#config = carrierConfigFromOptions(options, "DetourPropagator");
  }

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (isTracingSuppressed(ctx)) return;
    const token = getOverrideToken(ctx);
    if (token !== undefined) setter.set(carrier, TOKEN_HEADER, token);
    const set = getOverrides(ctx);
    if (set.isEmpty) return;
    setter.set(carrier, DETOUR_HEADER, set.toString());
    const baggage = baggageWithOverride(this.#baggageBase(ctx, carrier), set);
    if (baggage !== undefined) setter.set(carrier, BAGGAGE_HEADER, baggage);
  }

  extract(parent: Context, carrier: unknown, getter: TextMapGetter): Context {
    const ctx = setOverrideToken(parent, tokenFromHeader(getter.get(carrier, TOKEN_HEADER)));
    let headers: Record<string, string | string[]> | undefined;
    for (const name of this.#config.headerNames) {
      const value = getter.get(carrier, name);
      if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
      (headers ??= {})[name] = value;
    }
    if (headers === undefined) return ctx;
    const result = readCarriers(headers, this.#config);
    if (result.problems.length !== 0) {
      // Codes and carrier names only: values are request data, and whole headers are never logged.
      diag.debug("detour: ignored override carrier entries", {
        problems: result.problems.map((p) => `${p.carrier ?? "?"}:${p.code}`).join(","),
      });
    }
    if (!result.set.isEmpty) return setOverrides(ctx, result.set);
    // No valid carrier. If the request had a `detour` baggage member it was invalid, and a
    // W3CBaggagePropagator that ran before us has copied it into the context: drop it so it is
    // not forwarded (the sidecar would ignore it anyway, and so must every later hop).
    if (result.carriers.some((c) => c.carrier === BAGGAGE_HEADER)) return setOverrides(ctx, OverrideSet.EMPTY);
    return ctx;
  }

  fields(): string[] {
    return [...FIELDS];
  }

  /**
   * The baggage header our member is merged into. A carrier we can read back (a plain headers
   * object: instrumentation-http, instrumentation-undici, fetch headers) gives what is already
   * there: W3CBaggagePropagator's serialization when it ran first, or the caller's own header when
   * no baggage propagator is configured. Other carriers (gRPC Metadata, custom setters) get the
   * context's other baggage entries serialized the way W3CBaggagePropagator does, so a header it
   * may have written is replaced by a superset rather than truncated.
   */
  #baggageBase(ctx: Context, carrier: unknown): string | undefined {
    const readable = readBaggage(carrier);
    if (readable !== UNREADABLE) return readable;
    const bag = propagation.getBaggage(ctx);
    if (bag === undefined) return undefined;
    const rest = bag.removeEntry(BAGGAGE_MEMBER);
    if (rest.getAllEntries().length === 0) return undefined;
    const scratch: Record<string, string> = {};
    this.#baggage.inject(propagation.setBaggage(ctx, rest), scratch, defaultTextMapSetter);
    return scratch[BAGGAGE_HEADER];
  }
}

const UNREADABLE = Symbol("unreadable");

function readBaggage(carrier: unknown): string | undefined | typeof UNREADABLE {
  if (typeof carrier !== "object" || carrier === null) return UNREADABLE;
  const proto: unknown = Object.getPrototypeOf(carrier);
  if (proto === Object.prototype || proto === null) {
    const record = carrier as Record<string, unknown>;
    let value: string | undefined;
    for (const name in record) {
      if (name.length !== BAGGAGE_HEADER.length || name.toLowerCase() !== BAGGAGE_HEADER) continue;
      const field = record[name];
      const lines = Array.isArray(field) ? (field as unknown[]) : [field];
      for (const line of lines) if (typeof line === "string") value = value === undefined ? line : `${value},${line}`;
    }
    return value;
  }
  const headers = carrier as { get?: unknown; has?: unknown; set?: unknown };
  if (typeof headers.get === "function" && typeof headers.has === "function" && typeof headers.set === "function") {
    const value: unknown = (headers.get as (name: string) => unknown).call(carrier, BAGGAGE_HEADER);
    return typeof value === "string" ? value : undefined;
  }
  return UNREADABLE;
}
