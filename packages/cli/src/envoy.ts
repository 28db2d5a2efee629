// @detour/cli/envoy: find, install and run the Envoy release detour is tested with (what
// `detour demo` and the end-to-end tests use), and validate a config with it.
export { ENVOY_VERSION, cachedEnvoyPath, detourCacheDir, ensureEnvoy, findEnvoy } from "./envoy-binary.js";
export { startEnvoy, validateEnvoyConfig, type EnvoyProcess, type EnvoyValidation, type StartEnvoyOptions } from "./envoy-process.js";
