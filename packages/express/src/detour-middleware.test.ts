// Express specifics, with instrumentation-http not handling incoming requests, so that only the
// middleware can put the override into the context.
import { setup } from "../../otel/src/testing/detour-first-glue-only.js";
import express, { type NextFunction, type Request, type Response } from "express";
import { beforeAll, describe, expect, test } from "vitest";
import { DetourError } from "@detour/core";
import { getOverrides } from "@detour/otel";
import { useOverrideRecordingUpstream } from "../../../test/support/override-recording-upstream.js";
import { atLeast, installedVersion } from "../../otel/src/testing/installed-version.js";
import { detour, type DetourLogger } from "./index.js";
import { listen } from "./testing/express-rig.js";

beforeAll(() => {
  expect(setup.instrumentations).toContain("http");
});
const { call: callUpstream, sawOverride: upstreamSaw } = useOverrideRecordingUpstream();

async function withApp(build: (app: express.Express) => void, run: (url: string) => Promise<void>): Promise<void> {
  const app = express();
  build(app);
  const server = await listen(app);
  try {
    await run(server.url);
  } finally {
    await server.close();
  }
}

describe("body parsing (expressjs/express#4396, body-parser#422: fixed by raw-body 3.0.2 and on-finished 2.4.2 AsyncResource)", () => {
  test("installed raw-body and on-finished have the fix", () => {
    expect(atLeast(installedVersion("raw-body"), "3.0.2")).toBe(true);
    expect(atLeast(installedVersion("on-finished"), "2.4.2")).toBe(true);
  });

  test.each([
    ["express.json() before detour()", (app: express.Express) => app.use(express.json(), detour())],
    ["express.json() after detour()", (app: express.Express) => app.use(detour(), express.json())],
  ])("POST with %s: the handler's call carries the override", async (name, mount) => {
    const path = `/post-${name.startsWith("express.json() before") ? "before" : "after"}`;
    await withApp(
      (app) => {
        mount(app);
        app.post("/order", async (req, res) => {
          await callUpstream(path);
          res.json({ body: req.body as unknown, active: getOverrides().toString() });
        });
      },
      async (url) => {
        const res = await fetch(`${url}/order`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-detour": "pricing=v2" },
          body: JSON.stringify({ item: "a".repeat(100_000) }),
        });
        const answer = (await res.json()) as { body: { item: string }; active: string };
        expect(answer.body.item).toHaveLength(100_000);
        expect(answer.active).toBe("pricing=v2");
      },
    );
    expect(upstreamSaw(path)).toBe("pricing=v2");
  });
});

describe("router and error handlers run in the request's context", () => {
  test("a sync throw, an async rejection and next(err) from a timer reach an error handler that calls out", async () => {
    await withApp(
      (app) => {
        app.use(detour());
        const api = express.Router();
        api.get("/sync", () => {
          throw new Error("sync");
        });
        api.get("/async", async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          throw new Error("async");
        });
        api.get("/timer", (_req, _res, next) => {
          setTimeout(() => next(new Error("timer")), 1);
        });
        app.use("/api", api);
        app.use(async (err: Error, _req: Request, res: Response, _next: NextFunction) => {
          await callUpstream(`/error-${err.message}`);
          res.status(500).json({ active: getOverrides().toString() });
        });
      },
      async (url) => {
        for (const kind of ["sync", "async", "timer"]) {
          const res = await fetch(`${url}/api/${kind}`, { headers: { "x-detour": `pricing=${kind}` } });
          expect(res.status).toBe(500);
          expect(await res.json()).toEqual({ active: `pricing=${kind}` });
          expect(upstreamSaw(`/error-${kind}`)).toBe(`pricing=${kind}`);
        }
      },
    );
  });

  test("a res 'finish' listener runs in the request's context (res is bound)", async () => {
    await withApp(
      (app) => {
        app.use(detour());
        app.get("/finish", (_req, res) => {
          res.on("finish", () => void callUpstream("/after-finish"));
          res.send("ok");
        });
      },
      async (url) => {
        await (await fetch(`${url}/finish`, { headers: { "x-detour": "audit=v9" } })).text();
        for (let i = 0; i < 50 && upstreamSaw("/after-finish") === undefined; i++) await new Promise((r) => setTimeout(r, 10));
        expect(upstreamSaw("/after-finish")).toBe("audit=v9");
      },
    );
  });
});

describe("req.detour and the opt-in response header", () => {
  test("req.detour holds the parsed set; no response header unless asked", async () => {
    await withApp(
      (app) => {
        app.use(detour());
        app.get("/", (req, res) => res.json({ detour: req.detour?.toString(), pricing: req.detour?.versionFor("pricing") }));
      },
      async (url) => {
        const res = await fetch(url, { headers: { baggage: "detour=pricing%3Dv2%2C*%3Dsbx" } });
        expect(await res.json()).toEqual({ detour: "pricing=v2,*=sbx", pricing: "v2" });
        expect(res.headers.get("x-detour-received")).toBeNull();
      },
    );
  });

  test.each([
    [true, "x-detour-received"],
    ["X-Seen-Override", "x-seen-override"],
  ])("responseHeader: %s shows what the service received", async (option, header) => {
    await withApp(
      (app) => {
        app.use(detour({ responseHeader: option }));
        app.get("/", (_req, res) => res.send("ok"));
      },
      async (url) => {
        const withOverride = await fetch(url, { headers: { "x-detour": "pricing=v2" } });
        expect(withOverride.headers.get(header)).toBe("pricing=v2");
        const without = await fetch(url);
        expect(without.headers.get(header)).toBe("");
      },
    );
  });

  test("aliases given to the middleware are read; problems are logged by code, never by value", async () => {
    const debug: unknown[] = [];
    const logger: DetourLogger = { debug: (fields) => debug.push(fields), warn: () => {} };
    await withApp(
      (app) => {
        app.use(detour({ aliases: [{ header: "x-vc", format: "wildcard" }], logger }));
        app.get("/", (req, res) => res.json({ detour: req.detour?.toString() }));
      },
      async (url) => {
        expect(await (await fetch(url, { headers: { "x-vc": "sbx-2" } })).json()).toEqual({ detour: "*=sbx-2" });
        expect(await (await fetch(url, { headers: { "x-detour": "pricing=v2,SECRET!" } })).json()).toEqual({ detour: "pricing=v2" });
      },
    );
    expect(debug).toEqual([{ source: "x-detour", problems: ["x-detour:missing-equals"] }]);
    expect(JSON.stringify(debug)).not.toContain("SECRET");
  });
});

test.each([
  [{ responseHeader: "bad header" }, /responseHeader/],
  [{ responseHeader: 42 }, /responseHeader/],
  [{ aliases: [{ header: "x-o" }] }, /format/],
  [{ limits: { maxEntries: 1.5 } }, /maxEntries/],
])("bad options throw DetourError when the middleware is created: %j", (options, message) => {
  expect(() => detour(options as never)).toThrow(DetourError);
  expect(() => detour(options as never)).toThrow(message);
});
