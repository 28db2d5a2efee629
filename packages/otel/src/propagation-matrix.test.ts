// Plain node:http service, no framework: instrumentation-http extracts with the global propagator.
import { setup } from "./testing/detour-first.js";
import http from "node:http";
import { expect, test } from "vitest";
import { describePropagationMatrix, startNodeHttpService } from "./testing/matrix-rig.js";

test("setupDetour installed everything in a process without an SDK", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "opentelemetry" });
  expect(setup.contextManager).toBe("installed");
  expect(setup.instrumentations).toEqual(["http", "undici"]);
  expect((http.request as { __wrapped?: boolean }).__wrapped).toBe(true);
});

describePropagationMatrix("node:http", async (handle) => startNodeHttpService(handle));
