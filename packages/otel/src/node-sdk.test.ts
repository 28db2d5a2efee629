// A service on the plain OpenTelemetry NodeSDK; setupDetour composes with it.
import { exporter, setup } from "./testing/node-sdk-first.js";
import { propagation, SpanKind } from "@opentelemetry/api";
import { afterAll, expect, test } from "vitest";
import { describePropagationMatrix, startNodeHttpService } from "./testing/matrix-rig.js";
import { startUpstream } from "../../../test/support/upstream.js";
import { withOverrides } from "./override-context.js";

afterAll(() => {
  exporter.reset();
});

test("setupDetour composed with the SDK: its context manager, its propagator first, no second instrumentation", () => {
  expect(setup.mode).toBe("composed");
  expect(setup.contextManager).toBe("existing");
  expect(setup.instrumentations).toEqual([]);
  expect(propagation.fields()).toEqual(["traceparent", "tracestate", "baggage", "x-detour", "x-detour-token"]);
});

test("tracing still works: traceparent goes out with the override and client spans are recorded", async () => {
  const upstream = await startUpstream("upstream", "v1");
  try {
    exporter.reset();
    await withOverrides("pricing=v2", async () => {
      const { trace } = await import("@opentelemetry/api");
      await trace.getTracer("test").startActiveSpan("job", async (span) => {
        await (await fetch(`http://127.0.0.1:${upstream.port}/traced`)).text();
        span.end();
      });
    });
    const hit = upstream.hits.find((h) => h.url === "/traced");
    expect(hit?.headers["x-detour"]).toBe("pricing=v2");
    expect(hit?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(String(hit?.headers.baggage).split(",").filter((m) => m.startsWith("detour="))).toEqual(["detour=pricing%3Dv2"]);
    expect(exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CLIENT)).toBe(true);
  } finally {
    await upstream.close();
  }
});

describePropagationMatrix("node:http on NodeSDK", async (handle) => startNodeHttpService(handle, undefined, () => exporter.reset()));
