import { context, type Context } from "@opentelemetry/api";
import { BAGGAGE_HEADER, TOKEN_HEADER, writeCarriers, type OverrideSet, type WritableHeaders } from "@detour/core";
import { getOverrideToken, getOverrides } from "@detour/otel";
import { headerText } from "./message-headers.js";

/** What a produced message must carry: the effective override and the signed token, if any. */
export interface OutgoingOverride {
  readonly set: OverrideSet;
  readonly token: string | undefined;
}

/**
 * The override messages produced now must carry, or undefined when there is none: the context's
 * override with `injection` (a workload's injected override, detour.yaml `workloads.<w>.inject`)
 * merged under it as a sidecar does (the context's own entries win per service), and the signed
 * token the request arrived with. Computed once per send, written into each message.
 */
export function outgoingOverride(injection?: OverrideSet, ctx: Context = context.active()): OutgoingOverride | undefined {
  const own = getOverrides(ctx);
  const set = injection === undefined ? own : own.withDefaults(injection);
  const token = getOverrideToken(ctx);
  if (set.isEmpty && token === undefined) return undefined;
  return { set, token };
}

/**
 * Writes `outgoing` into a message's header record: `x-detour` and the `detour` baggage member
 * (merged into a baggage header the message already has, its other members kept), and
 * `x-detour-token`. Other headers are not touched.
 *
 * Only detour's own carriers are written: trace context and other baggage members are the job of
 * an OpenTelemetry messaging instrumentation, which may inject after this (same keys, same values,
 * so nothing is duplicated).
 */
export function writeOutgoingOverride(headers: Record<string, unknown>, outgoing: OutgoingOverride): void {
  if (!outgoing.set.isEmpty) {
    textifyBaggage(headers);
    writeCarriers(headers as WritableHeaders, outgoing.set);
  }
  if (outgoing.token !== undefined) headers[TOKEN_HEADER] = outgoing.token;
}

/**
 * Writes the active override into a message's header record (outgoingOverride, then
 * writeOutgoingOverride). Headers are left untouched when there is nothing to carry, so a message
 * that already says something (a relay copying headers) keeps it. Returns whether it wrote.
 */
export function injectOverride(headers: Record<string, unknown>, injection?: OverrideSet, ctx: Context = context.active()): boolean {
  const outgoing = outgoingOverride(injection, ctx);
  if (outgoing === undefined) return false;
  writeOutgoingOverride(headers, outgoing);
  return true;
}

/** A baggage header held as a Buffer (kafkajs, a copied consumer record) must be text to be merged. */
function textifyBaggage(headers: Record<string, unknown>): void {
  for (const key in headers) {
    if (key.length !== BAGGAGE_HEADER.length || key.toLowerCase() !== BAGGAGE_HEADER) continue;
    const value = headers[key];
    if (typeof value !== "string" && value !== undefined) {
      const text = headerText(value);
      if (text === undefined) delete headers[key];
      else headers[key] = text;
    }
  }
}
