import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getOverrides } from "./override-context.js";
import { createRequestScope, type DetourLogger } from "./request-scope.js";

// Framework glue of its own on a bare node:http server: what @detour/express and @detour/fastify do.
const manager = new AsyncLocalStorageContextManager();
const lines: { level: string; fields: object; message: string }[] = [];
const logger: DetourLogger = {
  debug: (fields, message) => lines.push({ level: "debug", fields, message }),
  warn: (fields, message) => lines.push({ level: "warn", fields, message }),
};
const scope = createRequestScope({ responseHeader: true }, "test glue");
let server: Server;
let base: string;

beforeAll(async () => {
  context.setGlobalContextManager(manager.enable());
  server = createServer((req, res) => {
    const incoming = scope.open(req, res, logger);
    if (scope.responseHeader !== undefined) res.setHeader(scope.responseHeader, incoming.set.toString());
    scope.run(incoming, () => {
      setTimeout(() => res.end(getOverrides().toString()), 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  context.disable();
});

describe("createRequestScope", () => {
  test("runs the handler in the request's override context and sets the opt-in response header", async () => {
    const res = await fetch(`${base}/quote`, { headers: { "x-detour": "pricing=v2" } });
    expect(await res.text()).toBe("pricing=v2");
    expect(res.headers.get("x-detour-received")).toBe("pricing=v2");
  });

  test("logs dropped carrier entries at debug and warns once that nothing propagates without a propagator", async () => {
    lines.length = 0;
    const fresh = createRequestScope(undefined, "test glue");
    const once = createServer((req, res) => fresh.run(fresh.open(req, res, logger), () => res.end(getOverrides().toString())));
    await new Promise<void>((resolve) => once.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(once.address() as AddressInfo).port}/`;
      expect(await (await fetch(url, { headers: { "x-detour": "pricing=v2,oops" } })).text()).toBe("pricing=v2");
      await (await fetch(url)).text();
    } finally {
      await new Promise<void>((resolve) => once.close(() => resolve()));
    }
    expect(lines.filter((line) => line.level === "warn").map((line) => line.fields)).toEqual([{ contextManager: true, propagator: false }]);
    expect(lines.filter((line) => line.level === "debug")).toEqual([
      { level: "debug", fields: { source: "x-detour", problems: ["x-detour:missing-equals"] }, message: "detour: ignored override carrier entries" },
    ]);
  });

  test("refuses a bad option when created, naming where it was given", () => {
    expect(() => createRequestScope({ responseHeader: "not a header" }, "myGlue()")).toThrow(/myGlue\(\): responseHeader 'not a header' is not a valid header name/);
  });
});
