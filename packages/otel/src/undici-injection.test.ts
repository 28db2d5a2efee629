// Global fetch and undici in the light install: headers added on `undici:request:create`.
import { channel } from "node:diagnostics_channel";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { withOverrides } from "./override-context.js";
import { installLightGlobals } from "./testing/light-globals.js";
import { injectUndiciRequests, UNDICI_REQUEST_CREATE } from "./undici-injection.js";

let upstream: Upstream;
let remove: () => void;
const warnings: string[] = [];
let uninstallGlobals: () => void;
beforeAll(async () => {
  uninstallGlobals = installLightGlobals(warnings);
  remove = injectUndiciRequests();
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  remove();
  await upstream.close();
  uninstallGlobals();
});

const url = (path: string) => `http://127.0.0.1:${upstream.port}${path}`;
const hit = (path: string) => upstream.hits.find((h) => h.url === path)?.headers;

test("fetch and undici.request carry the override; a call outside one carries nothing", async () => {
  await withOverrides("pricing=v2", async () => {
    await (await fetch(url("/fetch"))).text();
    await (await undiciRequest(url("/undici"))).body.text();
  });
  await (await fetch(url("/outside"))).text();
  for (const path of ["/fetch", "/undici"]) {
    expect(hit(path)?.["x-detour"], path).toBe("pricing=v2");
    expect(hit(path)?.baggage, path).toBe("detour=pricing%3Dv2");
  }
  expect(hit("/outside")?.["x-detour"]).toBeUndefined();
});

test("a header the caller set wins and is not sent twice (unlike instrumentation-undici, which appends)", async () => {
  await withOverrides("pricing=v2", async () => {
    await (await fetch(url("/caller-set"), { headers: { Baggage: "tenant=7", "x-detour": "cart=v9" } })).text();
  });
  expect(hit("/caller-set")?.baggage).toBe("tenant=7");
  expect(hit("/caller-set")?.["x-detour"]).toBe("cart=v9");
});

describe("requests as other undici versions publish them", () => {
  const publish = (request: object) => withOverrides("pricing=v2", () => channel(UNDICI_REQUEST_CREATE).publish({ request }));

  test('undici before 6.11 keeps headers as "name: value\\r\\n" text', () => {
    const added: string[] = [];
    publish({ method: "GET", headers: "Baggage: tenant=7\r\naccept: */*\r\n", addHeader: (name: string, value: string) => added.push(`${name}: ${value}`) });
    expect(added).toEqual(["x-detour: pricing=v2"]);
  });

  test("a CONNECT (to a proxy) gets nothing", () => {
    const added: string[] = [];
    publish({ method: "CONNECT", headers: [], addHeader: (name: string) => added.push(name) });
    expect(added).toEqual([]);
  });

  test("a request without addHeader, or whose addHeader throws, is left alone with one warning; nothing throws", () => {
    expect(() => publish({ method: "GET", headers: [] })).not.toThrow();
    expect(() => publish({ method: "GET", headers: [] })).not.toThrow();
    const failing = { method: "GET", headers: [], addHeader: () => { throw new Error("invalid header"); } };
    expect(() => publish(failing)).not.toThrow();
    expect(() => publish(failing)).not.toThrow();
    expect(warnings.filter((w) => w.includes("without addHeader"))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes("could not add propagation headers"))).toHaveLength(1);
  });
});
