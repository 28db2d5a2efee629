import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getOverrides, withOverrides } from "./override-context.js";
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

  describe("listeners on req and res run in the request's context", () => {
    /**
     * A server whose handler reads the body with its own 'data'/'end' listeners, as a body parser
     * does, and answers from the 'end' listener: what the override there is, and whether the
     * listener was wrapped (bound) or added as it was.
     */
    async function bodyServer(
      listen: (start: () => void) => void,
      before: (next: () => void) => void = (next) => next(),
    ): Promise<{ url: string; close: () => Promise<void> }> {
      const glue = createRequestScope(undefined, "test glue");
      const bodyServer = createServer((req, res) => {
        before(() => glue.run(glue.open(req, res, logger), () => {
          const onEnd = (): void => {
            const wrapped = !req.rawListeners("end").includes(onEnd);
            res.end(JSON.stringify({ active: getOverrides().toString(), wrapped }));
          };
          req.on("data", () => {});
          req.on("end", onEnd);
        }));
      });
      await new Promise<void>((resolve) => listen(() => bodyServer.listen(0, "127.0.0.1", resolve)));
      return {
        url: `http://127.0.0.1:${(bodyServer.address() as AddressInfo).port}/`,
        close: () => new Promise<void>((resolve) => bodyServer.close(() => resolve())),
      };
    }
    const post = async (url: string, headers: Record<string, string>): Promise<unknown> =>
      (await fetch(url, { method: "POST", headers, body: "x".repeat(100_000) })).json();

    test("bound when the request carries an override; left as added when it arrived in its own context", async () => {
      const root = await bodyServer((start) => start());
      try {
        expect(await post(root.url, { "x-detour": "pricing=v2" })).toEqual({ active: "pricing=v2", wrapped: true });
        expect(await post(root.url, {})).toEqual({ active: "", wrapped: false });
      } finally {
        await root.close();
      }
    });

    test("bound when the request removes an override the server's own context carries", async () => {
      // Socket events of a server that listens inside withOverrides are emitted in that context.
      const leaky = await bodyServer((start) => withOverrides("cart=v5", start));
      try {
        expect(await post(leaky.url, {})).toEqual({ active: "", wrapped: true });
        expect(await post(leaky.url, { "x-detour": "pricing=v2" })).toEqual({ active: "pricing=v2", wrapped: true });
      } finally {
        await leaky.close();
      }
    });

    test("bound when code before the glue entered a context the socket's events do not run in", async () => {
      // As a middleware mounted before detour's would: the request arrives in a context that
      // already says pricing=v2, but its body's data and end events are emitted without it.
      const entered = await bodyServer(
        (start) => start(),
        (next) => withOverrides("pricing=v2", next),
      );
      try {
        expect(await post(entered.url, { "x-detour": "pricing=v2" })).toEqual({ active: "pricing=v2", wrapped: true });
        expect(await post(entered.url, {})).toEqual({ active: "", wrapped: true });
      } finally {
        await entered.close();
      }
    });
  });

  test("refuses a bad option when created, naming where it was given", () => {
    expect(() => createRequestScope({ responseHeader: "not a header" }, "myGlue()")).toThrow(/myGlue\(\): responseHeader 'not a header' is not a valid header name/);
  });
});
