/*
 * The OpenTelemetry and Node bugs that can break override
 * propagation, each pinned to the version that fixed it: the version check fails if a downgrade
 * brings the bug back, and the behaviour check proves the fix works together with detour.
 * (Express/Fastify-specific ones live in those packages' tests; ESM import forms in module-formats.test.ts.)
 */
import { setup } from "./testing/detour-first.js";
import { defaultTextMapGetter, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { W3CBaggagePropagator } from "@opentelemetry/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";
import { getOverrides, withOverrides } from "./override-context.js";
import { atLeast, installedVersion } from "./testing/installed-version.js";
import { baggageMembers } from "./testing/matrix-rig.js";

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream("upstream", "v1");
});
afterAll(async () => {
  await upstream.close();
});
const hit = (path: string) => upstream.hits.find((h) => h.url === path)?.headers;

// Must stay the first fetch of this process.
test("nodejs/node#43915: the very first global fetch of a process is instrumented (fixed in Node core)", async () => {
  expect(setup.instrumentations).toContain("undici");
  await withOverrides("pricing=v2", async () => {
    await (await fetch(`http://127.0.0.1:${upstream.port}/first-fetch`)).text();
  });
  expect(hit("/first-fetch")?.["x-detour"]).toBe("pricing=v2");
});

describe("@opentelemetry/core >= 2.8.0 bounds baggage extraction (security fix, opentelemetry-js 4b13587d)", () => {
  test("installed core has the fix", () => {
    expect(atLeast(installedVersion("@opentelemetry/core"), "2.8.0")).toBe(true);
  });

  test("an oversized baggage header is cut at 180 members / 8192 bytes; a detour member up front still wins", () => {
    const filler = Array.from({ length: 600 }, (_, i) => `k${i}=${"v".repeat(20)}`).join(",");
    const header = `detour=pricing%3Dv2,${filler}`;
    const ctx = propagation.extract(ROOT_CONTEXT, { baggage: header }, defaultTextMapGetter);
    const entries = propagation.getBaggage(ctx)?.getAllEntries() ?? [];
    expect(entries.length).toBeLessThanOrEqual(180);
    expect(getOverrides(ctx).toString()).toBe("pricing=v2");
    const w3cOnly = new W3CBaggagePropagator().extract(ROOT_CONTEXT, { baggage: header }, defaultTextMapGetter);
    expect(propagation.getBaggage(w3cOnly)?.getAllEntries().length).toBeLessThanOrEqual(180);
  });

  test("a detour member past that window is not read, as OpenTelemetry would not read it either", () => {
    const filler = Array.from({ length: 400 }, (_, i) => `k${i}=${"v".repeat(20)}`).join(",");
    const ctx = propagation.extract(ROOT_CONTEXT, { baggage: `${filler},detour=pricing%3Dv2` }, defaultTextMapGetter);
    expect(getOverrides(ctx).isEmpty).toBe(true);
  });
});

describe("instrumentation-undici appends propagation headers (opentelemetry-js-contrib#3711, open)", () => {
  test("a caller's own baggage header becomes a second line; the upstream still sees exactly one detour member", async () => {
    await withOverrides("pricing=v2", async () => {
      await (await fetch(`http://127.0.0.1:${upstream.port}/caller-baggage`, { headers: { baggage: "tenant=7" } })).text();
    });
    const headers = hit("/caller-baggage");
    expect(headers?.["x-detour"]).toBe("pricing=v2");
    const members = baggageMembers(headers ?? {});
    expect(members).toContain("tenant=7");
    expect(members.filter((m) => m.startsWith("detour="))).toEqual(["detour=pricing%3Dv2"]);
  });

  test("a caller-set x-detour is not doubled when the context has no override", async () => {
    await (await fetch(`http://127.0.0.1:${upstream.port}/caller-x-detour`, { headers: { "x-detour": "cart=pr-7" } })).text();
    expect(hit("/caller-x-detour")?.["x-detour"]).toBe("cart=pr-7");
  });
});

describe("instrumentation-http injects into a copy of the caller's headers (opentelemetry-js http.ts)", () => {
  test("http.request with the caller's own baggage: detour member added, caller's header object untouched", async () => {
    const http = await import("node:http");
    const callerHeaders = { baggage: "tenant=7" };
    await withOverrides("pricing=v2", () =>
      new Promise<void>((resolve, reject) => {
        http.get(`http://127.0.0.1:${upstream.port}/http-caller-baggage`, { headers: callerHeaders }, (res) => {
          res.resume().on("end", resolve);
        }).on("error", reject);
      }),
    );
    expect(callerHeaders).toEqual({ baggage: "tenant=7" });
    const headers = hit("/http-caller-baggage");
    expect(headers?.["x-detour"]).toBe("pricing=v2");
    // W3CBaggagePropagator rewrites the header from the context (the caller's member is OpenTelemetry's to keep or drop).
    expect(baggageMembers(headers ?? {}).filter((m) => m.startsWith("detour="))).toEqual(["detour=pricing%3Dv2"]);
  });
});
