// The public surface of @detour/ext-proc. Everything not exported here is internal.
export {
  aliasSchema,
  detourConfigJsonSchema,
  detourConfigSchema,
  limitsSchema,
  missPolicySchema,
  routingSchema,
  serverSchema,
  serviceSchema,
  versionSchema,
  workloadSchema,
  type DetourConfig,
  type DetourConfigInput,
  type MissPolicy,
  type ServiceConfig,
  type WorkloadConfig,
} from "./config/detour-config-schema.js";
export { documentPath, loadConfigFile, parseConfig, parseConfigText } from "./config/load-config.js";
export { ROLE_METADATA, WORKLOAD_METADATA } from "./constants.js";
export {
  decide,
  OUTCOMES,
  PASS_THROUGH,
  type DecisionInput,
  type HeaderPair,
  type Outcome,
  type RejectAnswer,
  type Role,
  type RouteDecision,
} from "./decision/route-decision.js";
export { routingTableFromConfig, type RoutingTable, type ServiceRoutes } from "./decision/routing-table.js";
export { serviceFromAuthority } from "./decision/destination-service.js";
export {
  createExtProcServer,
  type ExtProcAddresses,
  type ExtProcServer,
  type ExtProcServerOptions,
} from "./server/create-ext-proc-server.js";
export { runExtProcServer, type RunningExtProc } from "./server/run-ext-proc-server.js";
export { PROCESS_PATH } from "./service/protobuf-adapter.js";
