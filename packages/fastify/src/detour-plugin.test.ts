// Fastify specifics, with instrumentation-http not handling incoming requests, so that only the
// plugin can put the override into the context.
import { setup } from "../../otel/src/testing/detour-first-glue-only.js";
import { Writable } from "node:stream";
import Fastify, { type FastifyInstance } from "fastify";
import { beforeAll, describe, expect, test } from "vitest";
import { DetourError } from "@detour/core";
import { getOverrides } from "@detour/otel";
import { useOverrideRecordingUpstream } from "../../../test/support/override-recording-upstream.js";
import { atLeast, installedVersion } from "../../otel/src/testing/installed-version.js";
import { detourPlugin, requestContext } from "./index.js";

beforeAll(() => {
  expect(setup.instrumentations).toContain("http");
});
const { call: callUpstream, sawOverride: upstreamSaw } = useOverrideRecordingUpstream();
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

async function withApp(build: (app: FastifyInstance) => void | Promise<void>, run: (url: string) => Promise<void>, options = {}): Promise<void> {
  const app = Fastify(options);
  await app.register(detourPlugin);
  await build(app);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    await run(url);
  } finally {
    await app.close();
  }
}

test("POST bodies: the content-type parser keeps the context (fastify/fastify#3570, fixed by its AsyncResource in 5.x)", async () => {
  expect(atLeast(installedVersion("fastify"), "5.0.0")).toBe(true);
  await withApp(
    (app) => {
      app.post("/order", async (request) => {
        await callUpstream("/fastify-post");
        return { size: (request.body as { item: string }).item.length, active: getOverrides().toString() };
      });
    },
    async (url) => {
      const res = await fetch(`${url}/order`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-detour": "pricing=v2" },
        body: JSON.stringify({ item: "a".repeat(200_000) }),
      });
      expect(await res.json()).toEqual({ size: 200_000, active: "pricing=v2" });
    },
    { bodyLimit: 1_000_000 },
  );
  expect(upstreamSaw("/fastify-post")).toBe("pricing=v2");
});

describe("the hook chain runs in the request's context", () => {
  test("async preValidation/preHandler, route-level hooks, onSend, onResponse, onError and the error handler", async () => {
    await withApp(
      (app) => {
        app.addHook("preValidation", async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
        });
        app.addHook("preHandler", async (request) => {
          await callUpstream(`/preHandler-${request.id}`);
        });
        app.addHook("onSend", async (request, _reply, payload) => {
          await callUpstream(`/onSend-${request.id}`);
          return payload;
        });
        app.addHook("onResponse", (request, _reply, done) => {
          void callUpstream(`/onResponse-${request.id}`);
          done();
        });
        app.addHook("onError", async (request) => {
          await callUpstream(`/onError-${request.id}`);
        });
        app.setErrorHandler(async (error: Error, request, reply) => {
          await callUpstream(`/errorHandler-${request.id}`);
          return reply.status(500).send({ error: error.message, active: getOverrides().toString() });
        });
        app.get(
          "/ok",
          {
            preHandler: [
              async (request) => {
                await callUpstream(`/routeHook-${request.id}`);
              },
              (_request, _reply, done) => {
                setImmediate(done);
              },
            ],
          },
          async () => ({ active: getOverrides().toString() }),
        );
        app.get("/fail", async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          throw new Error("boom");
        });
      },
      async (url) => {
        const ok = await fetch(`${url}/ok`, { headers: { "x-detour": "pricing=v2", "request-id": "ok" } });
        expect(await ok.json()).toEqual({ active: "pricing=v2" });
        const fail = await fetch(`${url}/fail`, { headers: { "x-detour": "pricing=v3", "request-id": "fail" } });
        expect(await fail.json()).toEqual({ error: "boom", active: "pricing=v3" });
      },
      { requestIdHeader: "request-id" },
    );
    const expected: [string, string][] = [
      ["/preHandler-ok", "pricing=v2"],
      ["/routeHook-ok", "pricing=v2"],
      ["/onSend-ok", "pricing=v2"],
      ["/onResponse-ok", "pricing=v2"],
      ["/errorHandler-fail", "pricing=v3"],
      ["/onError-fail", "pricing=v3"],
      ["/onSend-fail", "pricing=v3"],
      ["/onResponse-fail", "pricing=v3"],
    ];
    await eventually(() => expected.every(([path]) => upstreamSaw(path) !== undefined));
    for (const [path, value] of expected) expect([path, upstreamSaw(path)]).toEqual([path, value]);
  });

  test("a hook chain resumed from a user-land queue: the handler re-enters the request's context", async () => {
    // A queue drained by a timer that was started outside any request (a pool, a batcher).
    const queue: (() => void)[] = [];
    const drain = setInterval(() => queue.splice(0).forEach((resume) => resume()), 2);
    try {
      await withApp(
        (app) => {
          app.addHook("preHandler", (_request, _reply, done) => {
            queue.push(() => done());
          });
          app.get("/queued", async (request) => ({
            active: getOverrides().toString(),
            stored: requestContext(request) !== undefined,
          }));
        },
        async (url) => {
          const answers = await Promise.all(
            [1, 2, 3, 4].map(async (n) => (await fetch(`${url}/queued`, { headers: { "x-detour": `pricing=v${n}` } })).json()),
          );
          expect(answers).toEqual([1, 2, 3, 4].map((n) => ({ active: `pricing=v${n}`, stored: true })));
        },
      );
    } finally {
      clearInterval(drain);
    }
  });

  test("routes of an encapsulated child plugin registered with a prefix", async () => {
    await withApp(
      async (app) => {
        await app.register(
          async (child) => {
            child.get("/call", async (request) => {
              await callUpstream("/child-plugin");
              return { detour: request.detour.toString() };
            });
          },
          { prefix: "/child" },
        );
      },
      async (url) => {
        expect(await (await fetch(`${url}/child/call`, { headers: { "x-override": "pricing:v7" } })).json()).toEqual({
          detour: "pricing=v7",
        });
      },
    );
    expect(upstreamSaw("/child-plugin")).toBe("pricing=v7");
  });
});

describe("request.detour, inject() and the opt-in response header", () => {
  test("works with app.inject() (no socket, no http instrumentation involved)", async () => {
    const app = Fastify();
    await app.register(detourPlugin, { responseHeader: true });
    app.get("/", async (request) => ({ detour: request.detour.toString(), active: getOverrides().toString() }));
    const res = await app.inject({ url: "/", headers: { baggage: "detour=pricing%3Dv2,x=1" } });
    expect(res.json()).toEqual({ detour: "pricing=v2", active: "pricing=v2" });
    expect(res.headers["x-detour-received"]).toBe("pricing=v2");
    const none = await app.inject({ url: "/" });
    expect(none.json()).toEqual({ detour: "", active: "" });
    expect(none.headers["x-detour-received"]).toBe("");
    await app.close();
  });

  test("no response header unless asked; problems logged at debug by code, never by value", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const app = Fastify({ logger: { level: "debug", stream } });
    await app.register(detourPlugin);
    app.get("/", async (request) => ({ detour: request.detour.toString() }));
    const res = await app.inject({ url: "/", headers: { "x-detour": "pricing=v2,SECRET!" } });
    expect(res.json()).toEqual({ detour: "pricing=v2" });
    expect(res.headers["x-detour-received"]).toBeUndefined();
    await app.close();
    const problem = lines.find((l) => l.msg === "detour: ignored override carrier entries");
    expect(problem).toMatchObject({ source: "x-detour", problems: ["x-detour:missing-equals"] });
    expect(JSON.stringify(lines)).not.toContain("SECRET");
  });

  test.each([
    [{ responseHeader: "bad header" }, /responseHeader/],
    [{ aliases: [{ baggage: "bad key" }] }, /baggage key/],
    [{ limits: { maxValueBytes: 0 } }, /maxValueBytes/],
  ])("bad options fail registration with DetourError: %j", async (options, message) => {
    const app = Fastify();
    app.register(detourPlugin, options as never);
    const error = await app.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DetourError);
    expect(String(error)).toMatch(message);
    await app.close();
  });
});
