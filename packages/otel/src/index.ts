// The public surface of @detour/otel. Everything not exported here is internal.
export { DetourPropagator, type DetourPropagatorOptions } from "./detour-propagator.js";
export { getOverrides, overrideHeaders, setOverrides, withOverrides } from "./override-context.js";
export { setupDetour, type DetourSetup, type SetupDetourOptions } from "./setup-detour.js";
export type { ReadOverrideOptions } from "./read-options.js";
// Building blocks for framework glue (@detour/express, @detour/fastify and your own).
export { createRequestScope, type DetourLogger, type RequestScope } from "./request-scope.js";
export { incomingOverrides, type IncomingOverrides } from "./incoming-overrides.js";
export { RECEIVED_HEADER, type RequestOverrideOptions } from "./request-options.js";
export { propagationStatus, type PropagationStatus } from "./propagation-status.js";
