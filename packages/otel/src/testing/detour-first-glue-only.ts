/*
 * Like detour-first.ts, but instrumentation-http does not handle incoming requests: only the
 * framework glue (middleware/plugin) puts the override into the context, which proves the glue
 * alone is enough (an SDK configured without server instrumentation, or ignoring some routes).
 */
import { setupDetour } from "../setup-detour.js";
import { MATRIX_SETUP } from "./matrix-setup.js";

export const setup = setupDetour({ ...MATRIX_SETUP, outbound: "opentelemetry", http: { disableIncomingRequestInstrumentation: true } });
