// The matrix in a service that runs the plain OpenTelemetry NodeSDK; setupDetour composes with it.
import { setup } from "../../otel/src/testing/node-sdk-first.js";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "../../otel/src/testing/matrix-rig.js";
import { startMatrixService } from "./testing/matrix-service.js";

test("setupDetour composed with the SDK and added no instrumentation", () => {
  expect(setup).toMatchObject({ mode: "composed", contextManager: "existing", instrumentations: [] });
});

describePropagationMatrix("fastify on NodeSDK", startMatrixService, { requestDetour: true, size: "reduced" });
