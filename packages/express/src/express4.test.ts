// The middleware on Express 4 (installed as the `express4` alias), with only the middleware
// setting the context: routers, error handlers and body-parser 1.x in either order.
import { setup } from "../../otel/src/testing/detour-first-glue-only.js";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { NextFunction, Request, Response } from "express";
import { afterAll, beforeAll, expect, test } from "vitest";
import { getOverrides } from "@detour/otel";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { installedVersion } from "../../otel/src/testing/installed-version.js";
import { detour } from "./index.js";

// Express 4's own types are not installed next to Express 5's; its API used here is the same.
const express = createRequire(import.meta.url)("express4") as typeof import("express");

let upstream: Upstream;
beforeAll(async () => {
  expect(setup.instrumentations).toContain("http");
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  await upstream.close();
});

test("Express 4: body parser before or after, router, async work and the error handler carry the override", async () => {
  expect(installedVersion("express4")).toMatch(/^4\./);
  const call = async (path: string) => void (await (await fetch(`http://127.0.0.1:${upstream.port}${path}`)).text());
  const app = express();
  app.post("/before", express.json(), detour(), (req, res, next) => {
    call("/e4-before").then(() => res.json({ active: getOverrides().toString(), n: (req.body as { n: number }).n }), next);
  });
  const router = express.Router();
  router.use(detour(), express.json());
  router.post("/after", (req, res, next) => {
    setTimeout(() => call("/e4-after").then(() => res.json({ active: getOverrides().toString(), n: (req.body as { n: number }).n }), next), 1);
  });
  router.get("/fail", (_req, _res, next) => setImmediate(() => next(new Error("fail"))));
  router.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    call(`/e4-${err.message}`).then(() => res.status(500).json({ active: getOverrides().toString() }));
  });
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const path of ["/before", "/after"]) {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-detour": "pricing=v4" },
        body: JSON.stringify({ n: 4, pad: "x".repeat(50_000) }),
      });
      expect(await res.json()).toEqual({ active: "pricing=v4", n: 4 });
    }
    const fail = await fetch(`${url}/fail`, { headers: { "x-detour": "pricing=v5" } });
    expect(await fail.json()).toEqual({ active: "pricing=v5" });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const saw = (path: string) => upstream.hits.find((h) => h.url === path)?.headers["x-detour"];
  expect([saw("/e4-before"), saw("/e4-after"), saw("/e4-fail")]).toEqual(["pricing=v4", "pricing=v4", "pricing=v5"]);
});
