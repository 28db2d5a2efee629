// No setupDetour and no SDK in this process: the middleware still parses and exposes the override,
// and says once, through the logger, that outbound calls cannot carry it.
import express from "express";
import { expect, test } from "vitest";
import { detour, type DetourLogger } from "./index.js";
import { listen } from "./testing/express-rig.js";

test("req.detour and the response header work; one warning names setupDetour", async () => {
  const warnings: string[] = [];
  const logger: DetourLogger = { debug: () => {}, warn: (_fields, message) => warnings.push(message) };
  const app = express();
  app.use(detour({ logger, responseHeader: true }));
  app.get("/", (req, res) => res.json({ detour: req.detour?.toString() }));
  const server = await listen(app);
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(server.url, { headers: { "x-detour": "pricing=v2" } });
      expect(await res.json()).toEqual({ detour: "pricing=v2" });
      expect(res.headers.get("x-detour-received")).toBe("pricing=v2");
    }
  } finally {
    await server.close();
  }
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/setupDetour\(\)/);
});
