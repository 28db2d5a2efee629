// Imported first by every service, so it runs before express, fastify or undici are loaded:
// detour needs its context manager, propagator and outbound header injection in place before the
// first request. Without an OpenTelemetry SDK, @detour/otel's setupDetour makes the light install
// (headers added on Node's diagnostics channels, no spans); with an SDK, call it after sdk.start().
import { setupDetour } from "@detour/otel";

setupDetour();
