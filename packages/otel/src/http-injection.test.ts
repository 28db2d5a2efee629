// node:http/node:https clients in the light install, on whichever mechanism this Node line gets:
// the `http.client.request.created` channel (Node >= 22.12) or wrapped request/get (Node 20).
import http from "node:http";
import https from "node:https";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { injectHttpRequests, type HttpInjection } from "./http-injection.js";
import { withOverrides } from "./override-context.js";
import { installLightGlobals } from "./testing/light-globals.js";

/** Saved before injection starts, as a module loaded before setupDetour would. */
const savedRequest = http.request;

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const expected: HttpInjection = major > 22 || (major === 22 && minor >= 12) ? "channel" : "wrapper";

let upstream: Upstream;
let injection: ReturnType<typeof injectHttpRequests>;
const warnings: string[] = [];
let uninstallGlobals: () => void;
beforeAll(async () => {
  uninstallGlobals = installLightGlobals(warnings);
  injection = injectHttpRequests();
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  injection.remove();
  await upstream.close();
  uninstallGlobals();
});

const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;
const hit = (path: string) => upstream.hits.find((h) => h.url === path)?.headers;

function send(request: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    request.on("response", (res) => res.resume().on("end", resolve));
    request.on("error", reject);
    request.end();
  });
}

test(`Node ${process.version} uses the ${expected}`, () => {
  expect(injection.via).toBe(expected);
  expect(http.request === savedRequest).toBe(expected === "channel");
});

test("http.request, http.get and an https.request carry the override; calls outside one carry nothing", async () => {
  await withOverrides("pricing=v2", async () => {
    await send(http.request(url("/request")));
    await new Promise<void>((resolve, reject) => http.get(url("/get"), (res) => res.resume().on("end", resolve)).on("error", reject));
    // https.request over a plain socket (no agent, createConnection): the https entry point without TLS.
    const viaHttps = https.request({ host: "127.0.0.1", port: upstream.port, path: "/https", createConnection: () => connect(upstream.port, "127.0.0.1") });
    await send(viaHttps);
  });
  await send(http.request(url("/outside")));
  for (const path of ["/request", "/get", "/https"]) {
    expect(hit(path)?.["x-detour"], path).toBe("pricing=v2");
    expect(hit(path)?.baggage, path).toBe("detour=pricing%3Dv2");
  }
  expect(hit("/outside")?.["x-detour"]).toBeUndefined();
  expect(hit("/outside")?.baggage).toBeUndefined();
});

test("a header the caller set wins and is not sent twice", async () => {
  await withOverrides("pricing=v2", () => send(http.request(url("/caller-set"), { headers: { "X-Detour": "cart=v9", baggage: "tenant=7" } })));
  expect(hit("/caller-set")?.["x-detour"]).toBe("cart=v9");
  expect(hit("/caller-set")?.baggage).toBe("tenant=7");
});

test("headers given as an array are final at once: the request goes out without the override, with one warning", async () => {
  // Raw headers replace Node's defaults, Host included (a Node server answers 400 without it).
  const headers = ["host", `127.0.0.1:${upstream.port}`, "accept", "text/plain"];
  await withOverrides("pricing=v2", async () => {
    await send(http.request(url("/array-1"), { headers }));
    await send(http.request(url("/array-2"), { headers }));
  });
  expect(hit("/array-1")?.["x-detour"]).toBeUndefined();
  expect(hit("/array-2")?.accept).toBe("text/plain");
  expect(warnings.filter((w) => w.includes("headers were final"))).toHaveLength(1);
});

describe.runIf(expected === "channel")("the created channel covers every ClientRequest", () => {
  test("a request function saved before injection started, and new http.ClientRequest", async () => {
    await withOverrides("pricing=v2", async () => {
      await send(savedRequest(url("/saved")));
      await send(new http.ClientRequest(url("/constructed")));
    });
    expect(hit("/saved")?.["x-detour"]).toBe("pricing=v2");
    expect(hit("/constructed")?.["x-detour"]).toBe("pricing=v2");
  });
});

describe.runIf(expected === "wrapper")("wrapped request/get cover calls through the module", () => {
  test("a request function saved before injection started is not covered (the documented limit)", async () => {
    await withOverrides("pricing=v2", () => send(savedRequest(url("/saved"))));
    expect(hit("/saved")?.["x-detour"]).toBeUndefined();
  });

  test("remove() restores the original functions", () => {
    const current = injectHttpRequests();
    const { request, get } = http;
    current.remove();
    expect(http.request).not.toBe(request);
    expect(http.get).not.toBe(get);
    // The first injection's wrappers are in place again, untouched by the second's removal.
    expect(http.request).not.toBe(savedRequest);
  });
});
