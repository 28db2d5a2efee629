/*
 * The OpenTelemetry install without an SDK (`outbound: "opentelemetry"`: instrumentation-http and
 * instrumentation-undici with non-recording spans). Imported first by matrix test files: ESM
 * evaluates imports in order, so setupDetour runs before the test's other modules load http
 * clients. (setupDetour also patches modules loaded earlier; the tests assert that injection
 * really happened either way.)
 */
import { setupDetour } from "../setup-detour.js";
import { MATRIX_SETUP } from "./matrix-setup.js";

export const setup = setupDetour({ ...MATRIX_SETUP, outbound: "opentelemetry" });
