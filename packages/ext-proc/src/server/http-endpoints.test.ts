import { Topology } from "@detour/core";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load-config.js";
import { createExtProcServer, type ExtProcServer } from "./create-ext-proc-server.js";

const config = parseConfig({
  services: {
    pricing: { baseline: "v1", versions: { v1: { endpoint: "10.0.0.1:80" }, v2: {} } },
    ledger: { baseline: "v1", versions: { v1: {}, "pr-7": {} } },
  },
  workloads: { "ledger/pr-7": { inject: "*=pr-7" }, "ledger/v1": {} },
  aliases: [{ header: "X-Override", format: "pairs" }, { baggage: "okteto-divert" }],
  limits: { maxEntries: 8 },
  server: { listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "silent" },
});

let server: ExtProcServer | undefined;
afterEach(async () => {
  await server?.stop({ graceMs: 100 });
  server = undefined;
});

async function start(): Promise<string> {
  server = createExtProcServer(config, { logger: pino({ level: "silent" }) });
  const { metricsPort } = await server.start();
  return `http://127.0.0.1:${metricsPort}/topology`;
}

describe("GET /topology", () => {
  it("publishes services, baselines, versions, injections, aliases and limits, and nothing else", async () => {
    const url = await start();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const body = (await response.json()) as unknown;
    expect(body).toEqual({
      format: 1,
      services: { pricing: { baseline: "v1", versions: ["v1", "v2"] }, ledger: { baseline: "v1", versions: ["v1", "pr-7"] } },
      workloads: { "ledger/pr-7": { inject: "*=pr-7" }, "ledger/v1": {} },
      aliases: [{ header: "x-override", format: "pairs" }, { baggage: "okteto-divert" }],
      limits: { maxEntries: 8, maxValueBytes: 1024 },
    });
    // What the server publishes is what a client accepts.
    expect(Topology.fromDocument(body).route(Topology.fromDocument(body).injection("ledger/pr-7")!, "ledger")?.version).toBe("pr-7");
  });

  it("answers 304 to a matching If-None-Match and a new body with a new ETag after a reload", async () => {
    const url = await start();
    const first = await fetch(url);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const again = await fetch(url, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await fetch(url, { headers: { "if-none-match": `"other", W/${etag}` } })).status).toBe(304);

    server!.reload(parseConfig({ ...config, services: { pricing: config.services.pricing! } }));
    const changed = await fetch(url, { headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(((await changed.json()) as { services: object }).services).toEqual({ pricing: { baseline: "v1", versions: ["v1", "v2"] } });
  });

  it("answers HEAD without a body and refuses other methods", async () => {
    const url = await start();
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toMatch(/^"/);
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
  });
});
