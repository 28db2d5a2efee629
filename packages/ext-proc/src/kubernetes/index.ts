// `@detour/ext-proc/kubernetes`: what detour writes into and reads from a cluster, for the CLI
// (`detour kubernetes`, `detour sandbox`) and the server alike. Pure: nothing here loads the
// Kubernetes client (`@detour/ext-proc/kubernetes-client` does).
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
} from "./detour-ownership.js";
export { assertKubernetesClientNode, KUBERNETES_CLIENT_MIN_NODE } from "./node-support.js";
export { rfc3339Millis } from "./workload-expiry.js";
export { EXPIRED_REASON, REPORTING_CONTROLLER } from "./expiry-event.js";
