export { ENVOY_VERSION, cachedEnvoyPath, detourCacheDir, ensureEnvoy, findEnvoy } from "./envoy-binary.js";
export { startEnvoy, validateEnvoyConfig } from "./envoy-process.js";
export type { EnvoyProcess, EnvoyValidation, StartEnvoyOptions } from "./envoy-process.js";
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
export { isDetourOwned, type KubernetesObject } from "./kubernetes/kubernetes-object.js";
