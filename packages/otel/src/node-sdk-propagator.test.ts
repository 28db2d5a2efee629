// An application that wires DetourPropagator into NodeSDK's own textMapPropagator (no setupDetour
// needed for propagation); setupDetour then finds it present and changes nothing.
import { NodeSDK } from "@opentelemetry/sdk-node";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { propagation } from "@opentelemetry/api";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { DetourPropagator } from "./detour-propagator.js";
import { withOverrides } from "./override-context.js";
import { setupDetour } from "./setup-detour.js";

process.env.OTEL_TRACES_EXPORTER ??= "none";
process.env.OTEL_METRICS_EXPORTER ??= "none";
process.env.OTEL_LOGS_EXPORTER ??= "none";
const sdk = new NodeSDK({
  textMapPropagator: new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), new DetourPropagator()],
  }),
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  await upstream.close();
  await sdk.shutdown();
});

test("setupDetour sees DetourPropagator already registered and leaves the SDK alone", () => {
  const setup = setupDetour();
  expect(setup).toMatchObject({ mode: "present", contextManager: "existing", instrumentations: [] });
  expect(propagation.fields()).toEqual(["traceparent", "tracestate", "baggage", "x-detour", "x-detour-token"]);
});

test("fetch and http.request forward the override with one detour member", async () => {
  const http = await import("node:http");
  await withOverrides("pricing=v2", async () => {
    await (await fetch(`http://127.0.0.1:${upstream.port}/sdk-fetch`)).text();
    await new Promise<void>((resolve, reject) =>
      http.get(`http://127.0.0.1:${upstream.port}/sdk-http`, (res) => res.resume().on("end", resolve)).on("error", reject),
    );
  });
  for (const path of ["/sdk-fetch", "/sdk-http"]) {
    const headers = upstream.hits.find((h) => h.url === path)?.headers;
    expect(headers?.["x-detour"]).toBe("pricing=v2");
    expect(headers?.baggage).toBe("detour=pricing%3Dv2");
  }
});
