// The public surface of @detour/cli as a library: the Envoy config generator behind `detour
// envoy` and the names it gives what it generates (listeners, clusters, stat prefixes), and the
// Kubernetes objects behind `detour kubernetes` (with detour's ownership mark). Running
// the pinned Envoy binary is in ./envoy.ts (`@detour/cli/envoy`); everything else is internal to
// the `detour` command.
export { envoyBootstrapFromTopology, envoyConfigFromTopology, type EnvoyConfigOptions } from "./envoy-config/envoy-config-from-topology.js";
export {
  DEFAULT_MESSAGE_TIMEOUT_MS,
  EXT_PROC_CLUSTER,
  EXT_PROC_FILTER_NAME,
  GRACEFUL_CLOSE_RUNTIME_KEY,
  outboundListenerName,
  outboundStatPrefix,
  versionClusterName,
} from "./envoy-config/envoy-names.js";
export { kubernetesManifests, kubernetesYaml, type KubernetesManifests } from "./kubernetes/kubernetes-manifests.js";
export { DEFAULT_KUBERNETES_OPTIONS, kubernetesOptions, type KubernetesMode, type KubernetesOptions } from "./kubernetes/kubernetes-options.js";
export { isDetourOwned, type KubernetesObject } from "@detour/ext-proc/kubernetes";
