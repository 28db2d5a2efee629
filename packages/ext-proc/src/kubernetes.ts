// @detour/ext-proc/kubernetes: what detour writes into and reads from a cluster, for the CLI
// (`detour kubernetes`, `detour sandbox`) and the server alike: the ownership mark, the
// detour.dev annotations and their grammar, the server's GET /topology answer. Pure: nothing
// here loads the Kubernetes client (@detour/ext-proc/kubernetes-client does).
export {
  COMPONENT_LABEL,
  isDetourOwned,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAME_LABEL,
  ownedLabels,
  PART_OF_LABEL,
  PART_OF_VALUE,
  type DetourComponent,
} from "./kubernetes/detour-ownership.js";
export { assertKubernetesClientNode } from "./kubernetes/node-support.js";
export { rfc3339Millis } from "./kubernetes/workload-expiry.js";
export { DISCOVERY_ROLE_NAME, discoveryRbac, LEADER_ELECTION_ROLE_NAME, type DiscoveryRbacOptions } from "./kubernetes/discovery-rbac.js";
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
