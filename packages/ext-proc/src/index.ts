// The public surface of @detour/ext-proc: run the server, load and validate its config, and the
// pure routing decision. The contract with Envoy's config is in ./envoy.ts
// (`@detour/ext-proc/envoy`), edge tokens in ./tokens.ts (`@detour/ext-proc/tokens`); everything
// else is internal.

// The server.
export {
  createExtProcServer,
  type ExtProcAddresses,
  type ExtProcServer,
  type ExtProcServerOptions,
} from "./server/create-ext-proc-server.js";
export { runExtProcServer, type RunningExtProc } from "./server/run-ext-proc-server.js";
export { EXT_PROC_NODE_FLAGS } from "./server/node-heap-flags.js";
export { DEFAULT_SHUTDOWN_GRACE_MS } from "./constants.js";

// Its config, detour.yaml.
export { loadConfigFile, parseConfig, parseConfigText } from "./config/load-config.js";
export { isConfigError, readYamlConfig } from "./config/yaml-config-file.js";
export {
  detourConfigJsonSchema,
  detourConfigSchema,
  type DetourConfig,
  type DetourConfigInput,
  type MissPolicy,
  type ServiceConfig,
  type WorkloadConfig,
} from "./config/detour-config-schema.js";
export type { EdgeConfig } from "./config/edge-config-schema.js";
export { formatHostPort, parseHostPort, type HostPort } from "./address/host-port.js";

// The routing decision: headers + config in, a decision out, no I/O.
export {
  decide,
  type DecisionInput,
  type Outcome,
  type RejectAnswer,
  type Role,
  type RouteDecision,
} from "./decision/route-decision.js";
export type { HeaderPair } from "./header-pair.js";
export { routingTableFromConfig, type RoutingTable } from "./decision/routing-table.js";
