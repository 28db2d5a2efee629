// Express 5 service with the detour middleware, in a process set up by setupDetour (no SDK).
import { setup } from "../../otel/src/testing/detour-first.js";
import { expect, test } from "vitest";
import { describePropagationMatrix } from "../../otel/src/testing/matrix-rig.js";
import { startMatrixService } from "./testing/matrix-service.js";

test("setupDetour installed the http and undici instrumentations", () => {
  expect(setup).toMatchObject({ mode: "installed", outbound: "opentelemetry" });
  expect(setup.instrumentations).toEqual(["http", "undici"]);
});

describePropagationMatrix("express", startMatrixService, { requestDetour: true });
