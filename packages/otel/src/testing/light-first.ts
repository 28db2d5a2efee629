/*
 * Imported first by the light-install matrix tests: setupDetour with its defaults in a process
 * without an OpenTelemetry SDK, which is the light install (outbound headers on Node's diagnostics
 * channels, no OpenTelemetry instrumentation, no spans).
 */
import { setupDetour } from "../setup-detour.js";
import { MATRIX_SETUP } from "./matrix-setup.js";

export const setup = setupDetour(MATRIX_SETUP);
