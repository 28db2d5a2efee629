import { context, diag, DiagLogLevel, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator } from "@opentelemetry/core";
import { DetourPropagator } from "../detour-propagator.js";

/**
 * The globals an outbound injector reads, set the way the light install sets them (an
 * AsyncLocalStorage context manager, W3C baggage + detour's propagator), with OpenTelemetry's
 * diag warnings collected into `warnings`. Returns what undoes it.
 */
export function installLightGlobals(warnings: string[]): () => void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CBaggagePropagator(), new DetourPropagator()] }));
  diag.setLogger({ error: () => {}, warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  return () => {
    diag.disable();
    propagation.disable();
    context.disable();
  };
}
