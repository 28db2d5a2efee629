import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DetourError } from "@detour/core";
import { createTopologyClient, type TopologyClient } from "./topology-client.js";

const doc = (versions: string[]) => JSON.stringify({ format: 1, services: { ledger: { baseline: "v1", versions } } });

let server: Server | undefined;
let client: TopologyClient | undefined;
afterEach(async () => {
  client?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  client = undefined;
});

/** A real HTTP server answering GET /topology the way the ext_proc server does (ETag, 304). */
async function serve(state: { body: string; status?: number; requests: { ifNoneMatch?: string }[] }): Promise<string> {
  server = createServer((req, res) => {
    state.requests.push({ ifNoneMatch: req.headers["if-none-match"] });
    const etag = `"${Buffer.from(state.body).toString("base64url").slice(-12)}"`;
    if (state.status !== undefined) return void res.writeHead(state.status).end("nope");
    if (req.headers["if-none-match"] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { etag, "content-type": "application/json" }).end(state.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
};

describe("createTopologyClient", () => {
  it("reads /topology, revalidates with If-None-Match, and sees a change within refresh + timeout", async () => {
    const state = { body: doc(["v1", "pr-7"]), requests: [] as { ifNoneMatch?: string }[] };
    client = createTopologyClient({ url: await serve(state), refreshMs: 20, timeoutMs: 500 });
    expect(client.stalenessMs).toBe(520);
    const first = await client.ready();
    expect(first.service("ledger")?.versions.has("pr-7")).toBe(true);
    await until(() => state.requests.length >= 3);
    expect(state.requests.at(-1)?.ifNoneMatch).toMatch(/^"/);
    const changes: string[][] = [];
    client.onChange((t) => changes.push([...t.service("ledger")!.versions]));
    state.body = doc(["v1"]);
    await until(() => changes.length === 1);
    expect(changes).toEqual([["v1"]]);
    expect(client.current()?.service("ledger")?.versions.has("pr-7")).toBe(false);
  });

  it("keeps the last good topology when the server fails or answers an invalid document", async () => {
    const state: { body: string; status?: number; requests: unknown[] } = { body: doc(["v1", "v2"]), requests: [] };
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_fields: object, message: string) => warnings.push(message) };
    client = createTopologyClient({ url: await serve(state as never), refreshMs: 20, logger });
    await client.ready();
    state.status = 503;
    await until(() => warnings.length === 1);
    state.status = undefined;
    state.body = JSON.stringify({ services: { ledger: { baseline: "v9", versions: ["v1"] } } });
    await client.refresh();
    expect(client.current()?.service("ledger")?.baseline).toBe("v1");
    expect(warnings).toEqual(["detour: cannot read the topology"]);
  });

  it("fails ready() with topology-unavailable when nothing answers, and refuses bad options", async () => {
    client = createTopologyClient({ url: "http://127.0.0.1:9/", refreshMs: 50, timeoutMs: 50 });
    await expect(client.ready(200)).rejects.toMatchObject({ code: "topology-unavailable" });
    expect(() => createTopologyClient({ url: "not a url" })).toThrow(DetourError);
    expect(() => createTopologyClient({ url: "ftp://x" })).toThrow("http or https");
    expect(() => createTopologyClient({ url: "http://x", refreshMs: 0 })).toThrow("refreshMs");
  });
});
