/*
 * The README's ESM and CommonJS setups, run as real child processes against the built package
 * (dist/, built here with tsc -b): a preload calls setupDetour, the app makes outbound calls.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startUpstream, type Upstream } from "../../../test/support/upstream.js";

const run = promisify(execFile);
/** A child Node process with the OpenTelemetry loader starts in ~1 s idle, much slower on a busy CI machine. */
const CHILD_TIMEOUT = 120_000;
const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./testing/fixtures/${name}`, import.meta.url));

let upstream: Upstream;
beforeAll(async () => {
  await run(process.execPath, [fileURLToPath(new URL("../../../node_modules/typescript/bin/tsc", import.meta.url)), "-b", "packages/otel"], { cwd: root });
  upstream = await startUpstream("upstream", "v1");
}, CHILD_TIMEOUT);
afterAll(async () => {
  await upstream?.close();
});

async function runApp(args: string[]): Promise<{ setup: unknown; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, [...args, String(upstream.port)], { cwd: root, timeout: 90_000 });
  return { setup: JSON.parse(stdout.trim()), stderr };
}

function expectCarried(path: string): void {
  const headers = upstream.hits.find((h) => h.url === path)?.headers;
  expect(headers?.["x-detour"], path).toBe("pricing=v2");
  expect(headers?.baggage, path).toBe("detour=pricing%3Dv2");
}

test.each([
  [
    'ESM, module.register(instrumentation hook) + setupDetour({ outbound: "opentelemetry" }) preload',
    "preload-esm.mjs",
    { mode: "installed", outbound: "opentelemetry", instrumentations: ["http", "undici"] },
  ],
  [
    "ESM, setupDetour preload without the loader hook (the light install)",
    "preload-esm-no-loader.mjs",
    { mode: "installed", outbound: "light", instrumentations: ["http", "undici"], instrumentationLoaded: false },
  ],
])("%s: named and default node:http imports and fetch carry the override", async (_name, preload, expected) => {
  upstream.hits.length = 0;
  const { setup, stderr } = await runApp(["--import", fixture(preload), fixture("app.mjs")]);
  expect(setup).toEqual(expected);
  expect(stderr).not.toMatch(/has been loaded before/);
  for (const path of ["/esm-named-import", "/esm-default-import", "/esm-fetch"]) expectCarried(path);
}, CHILD_TIMEOUT);

test("CommonJS, --require preload (require of the ESM package, the light install): destructured http.request and fetch carry the override", async () => {
  upstream.hits.length = 0;
  const { setup } = await runApp(["--require", fixture("preload.cjs"), fixture("app.cjs")]);
  expect(setup).toEqual({ mode: "installed", outbound: "light", instrumentations: ["http", "undici"], instrumentationLoaded: false });
  for (const path of ["/cjs-request", "/cjs-fetch"]) expectCarried(path);
}, CHILD_TIMEOUT);
