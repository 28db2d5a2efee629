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
export {
  allowListSchema,
  cidrSchema,
  edgeSchema,
  edgeTokensSchema,
  tokenKeySchema,
  workloadTrustSchema,
  type AllowListConfig,
  type EdgeConfig,
  type EdgeTokensConfig,
  type TokenKeyConfig,
} from "./config/edge-config-schema.js";
export { documentPath, loadConfigFile, parseConfig, parseConfigText } from "./config/load-config.js";
export { durationSeconds } from "./config/duration-text.js";
export {
  DEFAULT_SERVICE_LABELS,
  DEFAULT_VERSION_LABELS,
  kubernetesSchema,
  leaderElectionSchema,
  type KubernetesConfig,
  type LeaderElectionConfig,
} from "./config/kubernetes-config-schema.js";
export { BASELINE_ANNOTATION, EXPIRES_AT_ANNOTATION, INJECT_ANNOTATION, MISS_ANNOTATION, TTL_ANNOTATION } from "./constants.js";
export { ROLE_METADATA, WORKLOAD_METADATA } from "./constants.js";
export { EDGE_MARKER_HEADER, EDGE_MARKER_VALUE, MAX_TOKEN_BYTES, SOURCE_ADDRESS_ATTRIBUTE, TOKEN_REJECT_STATUS } from "./constants.js";
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
  decideEdge,
  decideTokenHop,
  type EdgeDecisionInput,
  type TrustedDecision,
  type TrustVerdict,
  type TrustVia,
} from "./decision/trust-decision.js";
export { REJECTION_REASONS, type RejectionReason } from "./trust/rejection-reason.js";
export { OVERRIDE_CLAIM, SERVICES_CLAIM } from "./trust/token-claims.js";
export { keyRingFromConfig, keyRingFromFile, MIN_SECRET_BYTES, type KeyRing, type TokenAlgorithm, type VerificationKey } from "./trust/key-ring.js";
export { allowListFromConfig, type AllowList } from "./trust/allow-list.js";
export { createTokenVerifier, type TokenCheck, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from "./trust/token-verifier.js";
export { findToken, NO_TOKEN, type TokenFinding } from "./trust/token-finding.js";
export { trustTableFromConfig, type TrustTable, type TrustTableOptions } from "./trust/trust-table.js";
export {
  createExtProcServer,
  type ExtProcAddresses,
  type ExtProcServer,
  type ExtProcServerOptions,
} from "./server/create-ext-proc-server.js";
export { runExtProcServer, type RunningExtProc } from "./server/run-ext-proc-server.js";
export type {
  KubernetesSourceStatus,
  ServiceStatus,
  TopologyOrigin,
  TopologyProblemStatus,
  TopologyStatus,
  VersionStatus,
} from "./server/topology-status.js";
export { EXT_PROC_NODE_FLAGS, missingNodeHeapFlags } from "./server/node-heap-flags.js";
export { PROCESS_PATH } from "./service/protobuf-adapter.js";
