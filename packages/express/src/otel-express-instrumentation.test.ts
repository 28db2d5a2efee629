/*
 * Express with OpenTelemetry's own Express and router instrumentations. Before
 * instrumentation-express 0.62.0 (opentelemetry-js-contrib#3437, fixing opentelemetry-js-contrib#3357) and
 * instrumentation-router 0.63.0 (#3528) they re-bound `next` to the layer-entry context and
 * discarded what middleware had set with context.with(ctx, next). Incoming http instrumentation
 * is off here, so that layer-entry context has no override and the bug would show.
 */
import { setup } from "../../otel/src/testing/detour-first-glue-only.js";
import { createRequire } from "node:module";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { RouterInstrumentation } from "@opentelemetry/instrumentation-router";
import { afterAll, beforeAll, expect, test } from "vitest";
import { getOverrides } from "@detour/otel";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { atLeast, installedVersion } from "../../otel/src/testing/installed-version.js";
import { detour } from "./index.js";
import { listen } from "./testing/express-rig.js";

registerInstrumentations({ instrumentations: [new ExpressInstrumentation(), new RouterInstrumentation()] });
// Loaded through require after the instrumentations are registered, so their hooks patch it.
const express = createRequire(import.meta.url)("express") as typeof import("express");

let upstream: Upstream;
beforeAll(async () => {
  expect(setup.instrumentations).toContain("http");
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  await upstream.close();
});

test("installed instrumentations have the fixes and really patched express", () => {
  expect(atLeast(installedVersion("@opentelemetry/instrumentation-express"), "0.62.0")).toBe(true);
  expect(atLeast(installedVersion("@opentelemetry/instrumentation-router"), "0.63.0")).toBe(true);
  expect((express.application.use as { __wrapped?: boolean }).__wrapped).toBe(true);
});

test("middleware after detour(), a sub-router and the handler all see the override; calls carry it", async () => {
  const app = express();
  app.use(detour());
  app.use((_req, res, next) => {
    res.locals.seenInMiddleware = getOverrides().toString();
    next();
  });
  const api = express.Router();
  api.use(express.json());
  api.post("/order", async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await (await fetch(`http://127.0.0.1:${upstream.port}/instrumented-${String((req.body as { n: number }).n)}`)).text();
    res.json({ middleware: res.locals.seenInMiddleware as string, handler: getOverrides().toString() });
  });
  app.use("/api", api);
  const server = await listen(app);
  try {
    const answers = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const res = await fetch(`${server.url}/api/order`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-detour": `pricing=v${n}` },
          body: JSON.stringify({ n }),
        });
        return res.json();
      }),
    );
    expect(answers).toEqual([1, 2, 3].map((n) => ({ middleware: `pricing=v${n}`, handler: `pricing=v${n}` })));
    for (const n of [1, 2, 3]) expect(upstream.hits.find((h) => h.url === `/instrumented-${n}`)?.headers["x-detour"]).toBe(`pricing=v${n}`);
  } finally {
    await server.close();
  }
});
