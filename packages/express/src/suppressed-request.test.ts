// instrumentation-http's ignoreIncomingRequestHook runs the request under suppressTracing, and
// then no propagator writes anything downstream (isTracingSuppressed in @opentelemetry/core). detour
// cannot change that without un-suppressing the application's choice; it must not be silent.
import { setupDetour } from "@detour/otel";
const setup = setupDetour({ outbound: "opentelemetry", http: { ignoreIncomingRequestHook: (req) => req.url?.startsWith("/ignored") === true } });
import express from "express";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { detour, type DetourLogger } from "./index.js";
import { listen } from "./testing/express-rig.js";

let upstream: Upstream;
beforeAll(async () => {
  expect(setup.instrumentations).toContain("http");
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  await upstream.close();
});

test("an ignored route logs one warning and its calls carry no override; other routes are unaffected", async () => {
  const warnings: object[] = [];
  const logger: DetourLogger = { debug: () => {}, warn: (fields) => warnings.push(fields) };
  const app = express();
  app.use(detour({ logger }));
  app.get(["/ignored", "/traced"], async (req, res) => {
    await (await fetch(`http://127.0.0.1:${upstream.port}${req.path}`)).text();
    res.json({ detour: req.detour?.toString() });
  });
  const server = await listen(app);
  try {
    for (const path of ["/ignored", "/ignored", "/traced"]) {
      const res = await fetch(`${server.url}${path}`, { headers: { "x-detour": "pricing=v2" } });
      expect(await res.json()).toEqual({ detour: "pricing=v2" });
    }
  } finally {
    await server.close();
  }
  expect(warnings).toEqual([{ path: "/ignored" }]);
  expect(upstream.hits.filter((h) => h.url === "/ignored").map((h) => h.headers["x-detour"])).toEqual([undefined, undefined]);
  expect(upstream.hits.find((h) => h.url === "/traced")?.headers["x-detour"]).toBe("pricing=v2");
});
