// Express 5 service with the detour middleware in a light install: setupDetour() without an SDK
// adds outbound headers on Node's diagnostics channels; no OpenTelemetry instrumentation runs.
import { setup } from "../../otel/src/testing/light-first.js";
import http from "node:http";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "../../otel/src/testing/matrix-rig.js";
import { startMatrixService } from "./testing/matrix-service.js";

test("setupDetour chose the light install and no OpenTelemetry instrumentation", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "light", contextManager: "installed", instrumentations: ["http", "undici"] });
  expect((http.request as { __wrapped?: boolean }).__wrapped).toBeUndefined();
});

describePropagationMatrix("express (light install)", startMatrixService, { requestDetour: true });
