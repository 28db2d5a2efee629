import { context, createContextKey, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { BAGGAGE_HEADER, DETOUR_HEADER } from "@detour/core";

export interface PropagationStatus {
  /** A context manager is registered that keeps context across async work (not the no-op default). */
  readonly contextManager: boolean;
  /** The global propagator writes x-detour or baggage. */
  readonly propagator: boolean;
}

const PROBE_KEY = createContextKey("detour.probe");

/**
 * Whether outbound calls can carry the override at all: a context manager must keep the context
 * across async work (the no-op default drops it) and the global propagator must write baggage or
 * x-detour. Framework glue checks it at the first request and warns once when it is false.
 */
export function propagationStatus(): PropagationStatus {
  const contextManager = context.with(ROOT_CONTEXT.setValue(PROBE_KEY, true), () => context.active().getValue(PROBE_KEY) === true);
  const fields = propagation.fields();
  return { contextManager, propagator: fields.includes(DETOUR_HEADER) || fields.includes(BAGGAGE_HEADER) };
}
