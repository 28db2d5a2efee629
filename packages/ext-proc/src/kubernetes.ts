// @detour/ext-proc/kubernetes: what detour writes into and reads from a cluster, for the CLI
// (`detour kubernetes`, `detour sandbox`) and the server alike: the ownership mark, the
// detour.dev annotations and their grammar, the server's GET /status answer. Pure: nothing
// here loads the Kubernetes client (@detour/ext-proc/kubernetes-client does).
export {
  COMPONENT_LABEL,
  isDetourOwned,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAME_LABEL,
  ownedLabels,
  ownedMetadata,
  PART_OF_LABEL,
  PART_OF_VALUE,
  type DetourComponent,
  type KubernetesObject,
  type ObjectMeta,
} from "./kubernetes/detour-ownership.js";
export {
  BASELINE_ROUTE_NAME,
  dnsLabelName,
  NAME_PREFIX,
  serviceHost,
  serviceRoutingName,
  subsetName,
  versionLabelValue,
  versionRouteName,
  versionServiceName,
} from "./kubernetes/routing-names.js";
export {
  destinationRule,
  detourHttpRoutes,
  GATEWAY_API_VERSION,
  httpRoutes,
  ISTIO_NETWORKING_API_VERSION,
  MAX_RULES_PER_HTTP_ROUTE,
  virtualService,
  type ServiceRouting,
} from "./kubernetes/routing-objects.js";
export { assertKubernetesClientNode } from "./kubernetes/node-support.js";
export { rfc3339Millis } from "./kubernetes/workload-expiry.js";
export {
  DISCOVERY_ENV,
  DISCOVERY_ROLE_NAME,
  discoveryRbac,
  discoveryRules,
  LEADER_ELECTION_ROLE_NAME,
  leaderElectionRules,
  type DiscoveryRbacOptions,
  type PolicyRule,
} from "./kubernetes/discovery-rbac.js";
export { EXPIRED_REASON, REPORTING_CONTROLLER } from "./kubernetes/expiry-event.js";
export { BASELINE_ANNOTATION, EXPIRES_AT_ANNOTATION, INJECT_ANNOTATION, MISS_ANNOTATION, TTL_ANNOTATION } from "./constants.js";
export { durationSeconds } from "./config/duration-text.js";
export { DEFAULT_SERVICE_LABELS, DEFAULT_VERSION_LABELS, kubernetesSchema, type KubernetesConfig } from "./config/kubernetes-config-schema.js";
export type {
  KubernetesSourceStatus,
  ServiceStatus,
  TopologyOrigin,
  TopologyProblemStatus,
  TopologyStatus,
  VersionStatus,
} from "./server/topology-status.js";
