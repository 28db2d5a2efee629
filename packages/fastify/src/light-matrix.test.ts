// Fastify 5 service with the detour plugin in a light install: setupDetour() without an SDK adds
// outbound headers on Node's diagnostics channels; no OpenTelemetry instrumentation runs.
import { setup } from "../../otel/src/testing/light-first.js";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "../../otel/src/testing/matrix-rig.js";
import { startMatrixService } from "./testing/matrix-service.js";

test("setupDetour chose the light install", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "light", contextManager: "installed", instrumentations: ["http", "undici"] });
});

describePropagationMatrix("fastify (light install)", startMatrixService, { requestDetour: true });
