/*
 * An application that already runs the OpenTelemetry NodeSDK (tracing to an in-memory exporter,
 * with the SDK's own http and undici instrumentations) and then calls setupDetour: detour must
 * compose with it, not replace it.
 */
import { NodeSDK, tracing } from "@opentelemetry/sdk-node";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { setupDetour } from "../setup-detour.js";
import { MATRIX_SETUP } from "./matrix-setup.js";

// Nothing may leave the machine: no exporter is read from the environment.
process.env.OTEL_TRACES_EXPORTER ??= "none";
process.env.OTEL_METRICS_EXPORTER ??= "none";
process.env.OTEL_LOGS_EXPORTER ??= "none";

export const exporter = new tracing.InMemorySpanExporter();
export const sdk = new NodeSDK({
  spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
export const setup = setupDetour(MATRIX_SETUP);
