// No setupDetour and no SDK in this process: the plugin still parses and exposes the override,
// and warns once through request.log that outbound calls cannot carry it.
import { Writable } from "node:stream";
import Fastify from "fastify";
import { expect, test } from "vitest";
import { detourPlugin } from "./index.js";

test("request.detour works; one warning names setupDetour", async () => {
  const warnings: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as { level: number; msg: string };
      if (line.level === 40) warnings.push(line.msg);
      done();
    },
  });
  const app = Fastify({ logger: { level: "warn", stream } });
  await app.register(detourPlugin);
  app.get("/", async (request) => ({ detour: request.detour.toString() }));
  for (let i = 0; i < 3; i++) {
    expect((await app.inject({ url: "/", headers: { "x-detour": "pricing=v2" } })).json()).toEqual({ detour: "pricing=v2" });
  }
  await app.close();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/setupDetour\(\)/);
});
