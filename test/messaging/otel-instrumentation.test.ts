import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBrokers, type Brokers } from "./support/brokers.js";

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL("./fixtures/otel-kafkajs.mjs", import.meta.url));

// @opentelemetry/instrumentation-kafkajs injects into the same message headers detour writes, and
// runs consumer handlers in the context it extracted: the two together must send each carrier
// once, keep the trace and other baggage, and give the handler the message's override.
describe("detour with @opentelemetry/instrumentation-kafkajs and a tracing SDK", () => {
  let brokers: Brokers;
  beforeAll(async () => {
    brokers = await startBrokers(["kafka"]);
  });
  afterAll(async () => {
    await brokers?.stop();
  });

  it("sends one x-detour, one baggage header with one detour member, the producer's trace; the handler gets both", async () => {
    const { stdout } = await run(process.execPath, [FIXTURE, brokers.endpoints.kafka!, `otel-${Date.now()}`], { timeout: 120_000 });
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      producerTraceId: string;
      headers: Record<string, string | string[]>;
      handler: { override: string; traceId: string; tenant: string };
    };
    const { headers } = result;
    // Repeated record header keys arrive as arrays in kafkajs: strings mean each key was sent once.
    expect(typeof headers["x-detour"]).toBe("string");
    expect(typeof headers.baggage).toBe("string");
    expect(headers["x-detour"]).toBe("ledger=v2,pricing=v2");
    const members = (headers.baggage as string).split(",").map((m) => m.trim());
    expect(members.filter((m) => m.startsWith("detour="))).toEqual(["detour=ledger%3Dv2%2Cpricing%3Dv2"]);
    expect(members).toContain("tenant=acme");
    expect(headers.traceparent).toMatch(new RegExp(`^00-${result.producerTraceId}-[0-9a-f]{16}-0[01]$`));
    expect(result.handler).toEqual({ override: "ledger=v2,pricing=v2", traceId: result.producerTraceId, tenant: "acme" });
  });
});
