import { DetourError } from "@detour/core";

/** The oldest Node @kubernetes/client-node 2.x runs on (its HTTP client, undici 8, needs it). */
export const KUBERNETES_CLIENT_MIN_NODE = [22, 19] as const;

/**
 * Throws DetourError ("node-too-old") when this Node cannot load the Kubernetes client, naming
 * what needs it, before an import that would otherwise fail deep inside undici.
 */
export function assertKubernetesClientNode(what: string, version = process.versions.node): void {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  const [needMajor, needMinor] = KUBERNETES_CLIENT_MIN_NODE;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return;
  throw new DetourError("node-too-old", `${what} needs Node >= ${needMajor}.${needMinor} (the Kubernetes client's HTTP stack); this is Node ${version}: run it on Node 22.19+ or 24`);
}
