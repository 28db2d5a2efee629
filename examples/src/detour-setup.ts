// Imported first by every service, so it runs before express, fastify or undici are loaded:
// detour needs an OpenTelemetry context manager, propagator and the http/undici
// instrumentations in place before the first request (what @detour/otel's setupDetour does when
// no OpenTelemetry SDK is there; with an SDK, call it after sdk.start()).
import { setupDetour } from "@detour/otel";

setupDetour();
