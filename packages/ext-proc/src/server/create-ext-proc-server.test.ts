import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import { createProcessClient, type ProcessStream } from "../testing/process-client.js";
import { encodeOtherPhase, encodeRequestHeaders } from "../testing/process-messages.js";
import { createExtProcServer, type ExtProcServer } from "./create-ext-proc-server.js";
import type { HeaderPair } from "../header-pair.js";
import { pino } from "pino";

const config = parseConfig({
  services: {
    pricing: { baseline: "v1", versions: { v1: {}, v2: {} } },
    checkout: { baseline: "v1", miss: "reject", versions: { v1: {}, v2: {} } },
    catalog: { baseline: "v1", versions: { v1: {}, "pr-7": {} } },
  },
  workloads: { "cart/pr-7": { inject: "*=pr-7" } },
  server: { listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "silent" },
});

interface Harness {
  server: ExtProcServer;
  grpcPort: number;
  metricsPort: number;
  open(metadata?: Record<string, string>): ProcessStream;
  close(): void;
}

let current: Harness | undefined;

async function startHarness(): Promise<Harness> {
  const server = createExtProcServer(config, { logger: pino({ level: "silent" }) });
  const { grpcPort, metricsPort } = await server.start();
  const client = createProcessClient(grpcPort);
  current = { server, grpcPort, metricsPort, open: (metadata) => client.open(metadata), close: () => client.close() };
  return current;
}

afterEach(async () => {
  current?.close();
  await current?.server.stop({ graceMs: 500 });
  current = undefined;
});

const headers = (authority: string, extra: HeaderPair[] = []): Buffer => encodeRequestHeaders({ headers: [[":authority", authority], [":path", "/"], ...extra] });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(check()).toBe(true);
}

describe("ext_proc Process stream", () => {
  it("answers exactly one matching response per message, in order, and ends OK on half-close", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(headers("pricing", [["x-detour", "pricing=v2"]]));
    call.write(encodeOtherPhase("response-headers"));
    call.write(encodeOtherPhase("request-body"));
    call.write(headers("pricing"));
    call.end();
    expect((await call.ended).code).toBe(status.OK);
    expect(call.responses.map((r) => r.phase)).toEqual(["request-headers", "response-headers", "request-body", "request-headers"]);
    const [routed, , , untouched] = call.responses;
    expect(routed).toMatchObject({ setHeaders: { "x-detour-route": "v2", baggage: "detour=pricing%3Dv2" }, clearRouteCache: true, usesValueField: false });
    expect(routed!.appendFlags.every((flag) => flag === false)).toBe(true);
    expect(untouched).toMatchObject({ setHeaders: {}, removeHeaders: [], clearRouteCache: false });
  });

  it("identifies the workload from stream metadata and injects its override", async () => {
    const h = await startHarness();
    const call = h.open({ "x-detour-workload": "cart/pr-7", "x-detour-role": "outbound" });
    call.write(headers("catalog"));
    call.end();
    await call.ended;
    expect(call.responses[0]!.setHeaders).toEqual({ "x-detour": "*=pr-7", baggage: "detour=*%3Dpr-7", "x-detour-route": "pr-7" });
  });

  it("answers a miss on a rejecting service with an immediate 503", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(headers("checkout", [["x-detour", "checkout=v9"]]));
    call.end();
    await call.ended;
    expect(call.responses[0]!.immediate).toEqual({
      status: 503,
      body: "detour: service 'checkout' has no version 'v9' (known versions: v1, v2) and rejects unknown versions\n",
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  });

  it("sends nothing back in observability mode", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(encodeRequestHeaders({ headers: [[":authority", "pricing"], ["x-detour", "pricing=v2"]], observability: true }));
    call.end();
    await call.ended;
    expect(call.responses).toEqual([]);
  });

  it("treats a cancelled stream as normal and keeps serving", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(headers("pricing", [["x-detour", "pricing=v2"]]));
    await until(() => call.responses.length === 1);
    expect(h.server.activeStreams).toBe(1);
    call.cancel();
    expect((await call.ended).code).toBe(status.CANCELLED);
    await until(() => h.server.activeStreams === 0);
    const next = h.open();
    next.write(headers("pricing", [["x-detour", "pricing=v2"]]));
    next.end();
    await next.ended;
    expect(next.responses[0]!.setHeaders["x-detour-route"]).toBe("v2");
    const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    expect(text).toMatch(/^detour_ext_proc_active_streams 0$/m);
  });

  it("finishes in-flight streams on stop, refusing readiness meanwhile", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(headers("pricing"));
    await until(() => call.responses.length === 1);
    const stopped = h.server.stop({ graceMs: 20_000 });
    await until(() => h.server.activeStreams === 1);
    expect((await fetch(`http://127.0.0.1:${h.metricsPort}/readyz`)).status).toBe(503);
    call.write(headers("pricing", [["x-detour", "pricing=v2"]]));
    await until(() => call.responses.length === 2);
    call.end();
    expect((await call.ended).code).toBe(status.OK);
    await stopped;
    expect(call.responses[1]!.setHeaders["x-detour-route"]).toBe("v2");
  });

  it("cancels streams still open when the grace period ends", async () => {
    const h = await startHarness();
    const call = h.open();
    call.write(headers("pricing"));
    await until(() => call.responses.length === 1);
    await h.server.stop({ graceMs: 100 });
    expect((await call.ended).code).not.toBe(status.OK);
  });

  it("applies a reloaded config to the next request", async () => {
    const h = await startHarness();
    h.server.reload(parseConfig({ ...config, services: { ...config.services, pricing: { ...config.services.pricing!, versions: { v1: {}, v2: {}, v3: {} } } } }));
    const call = h.open();
    call.write(headers("pricing", [["x-detour", "pricing=v3"]]));
    call.end();
    await call.ended;
    expect(call.responses[0]!.setHeaders["x-detour-route"]).toBe("v3");
  });
});
