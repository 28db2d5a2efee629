import { DetourError, isValidService, isValidVersion } from "@detour/core";

/** The workload a consumer or producer runs as: one version of one service. */
export interface Workload {
  readonly service: string;
  readonly version: string;
  /** `service/version`, the key detour.yaml uses under `workloads`. */
  readonly key: string;
}

/** Parses `service/version` (checked at startup: a typo throws DetourError "invalid-workload"). */
export function parseWorkload(text: string, where: string): Workload {
  const slash = typeof text === "string" ? text.indexOf("/") : -1;
  const service = slash === -1 ? "" : text.slice(0, slash);
  const version = slash === -1 ? "" : text.slice(slash + 1);
  if (!isValidService(service) || service === "*" || service !== service.toLowerCase() || !isValidVersion(version)) {
    throw new DetourError("invalid-workload", `${where}: workload ${JSON.stringify(text)} must be service/version, e.g. "ledger/pr-7" (a lower-case DNS label and a version)`);
  }
  return Object.freeze({ service, version, key: `${service}/${version}` });
}
