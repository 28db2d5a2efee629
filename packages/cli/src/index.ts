export { ENVOY_VERSION, cachedEnvoyPath, detourCacheDir, ensureEnvoy, findEnvoy } from "./envoy-binary.js";
export { startEnvoy, validateEnvoyConfig } from "./envoy-process.js";
export type { EnvoyProcess, EnvoyValidation, StartEnvoyOptions } from "./envoy-process.js";
