// Plain node:http service in a light install: setupDetour() without an SDK, outbound headers on
// Node's diagnostics channels (or wrapped request/get where Node has no created channel), and the
// server reads each request with createRequestScope, as the README shows for plain node:http.
import { setup } from "./testing/light-first.js";
import { createRequire } from "node:module";
import { expect, test } from "vitest";
import { createRequestScope, type DetourLogger } from "./request-scope.js";
import { describePropagationMatrix, startNodeHttpService } from "./testing/matrix-rig.js";

test("setupDetour chose the light install and loaded no OpenTelemetry instrumentation", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "light", contextManager: "installed", instrumentations: ["http", "undici"] });
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  expect(loaded.filter((file) => /@opentelemetry[\\/]instrumentation/.test(file))).toEqual([]);
});

const quiet: DetourLogger = { debug: () => {}, warn: () => {} };

describePropagationMatrix("node:http (light install)", async (handle) => {
  const scope = createRequestScope(undefined, "light matrix");
  return startNodeHttpService(handle, (req, res, answer) => scope.run(scope.open(req, res, quiet), answer));
});
