// The matrix with instrumentation-http not handling incoming requests: the plugin alone sets the context.
import { setup } from "../../otel/src/testing/detour-first-glue-only.js";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "../../otel/src/testing/matrix-rig.js";
import { startMatrixService } from "./testing/matrix-service.js";

test("instrumentation-http is registered for outgoing calls only", () => {
  expect(setup.instrumentations).toEqual(["http", "undici"]);
});

describePropagationMatrix("fastify (plugin only)", startMatrixService, { requestDetour: true });
