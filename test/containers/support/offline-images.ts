import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root, bind-mounted read-only at /app in detour's Node containers. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface OfflineImages {
  /** envoyproxy/envoy:vX.Y.Z */
  readonly envoy: string;
  /** node:24-bookworm-slim, also the base of detour's server image */
  readonly node: string;
  /** detour-ext-proc:X.Y.Z, built from deploy/docker/ext-proc.Dockerfile */
  readonly extProc: string;
}

/**
 * The image tags of docker/images.env: what docker-compose.yml references for real users and
 * what scripts/build-images builds offline under the same names for this lane, and detour's own
 * server image as the lane builds it.
 */
export function offlineImages(): OfflineImages {
  const text = readFileSync(new URL("../../../docker/images.env", import.meta.url), "utf8");
  const value = (name: string): string => {
    const match = new RegExp(`^${name}=(\\S+)$`, "m").exec(text);
    if (!match?.[1]) throw new Error(`docker/images.env does not set ${name}`);
    return match[1];
  };
  return { envoy: value("DETOUR_ENVOY_IMAGE"), node: value("DETOUR_NODE_IMAGE"), extProc: value("DETOUR_EXT_PROC_IMAGE") };
}
