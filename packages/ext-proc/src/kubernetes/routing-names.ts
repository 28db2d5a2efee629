import { createHash } from "node:crypto";
import { DetourError } from "@detour/core";

/*
 * Names of the routing objects detour keeps for a service, and of their parts: `detour
 * kubernetes` renders them and the server keeps them in step, so both take them from here.
 */

/** Prefix of every object name detour renders, so none can collide with a name a team chose. */
export const NAME_PREFIX = "detour";

/** Longest Kubernetes object name that is also a DNS label (Services, and every name used as one). */
const MAX_LABEL = 63;
/** Hex digits of the hash that keeps a shortened or folded name unique. */
const HASH_DIGITS = 8;

/**
 * A DNS-1035 label (lower-case letters, digits, '-'; starts with a letter) built from `parts`
 * joined by '-'. Versions may hold upper case, '.' and '_', which a label cannot: those are
 * folded to lower case and '-', and then, because folding can make two names equal (`v1.0` and
 * `v1-0`) or the name may be too long, a hash of the exact parts is appended whenever the
 * folded name is not the exact text or is longer than 63 characters.
 */
export function dnsLabelName(parts: readonly string[]): string {
  const exact = parts.join("-");
  const folded = exact.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (folded === exact && folded.length <= MAX_LABEL && /^[a-z]/.test(folded) && !folded.endsWith("-")) return folded;
  const hash = createHash("sha256").update(parts.join("/")).digest("hex").slice(0, HASH_DIGITS);
  const head = folded.slice(0, MAX_LABEL - HASH_DIGITS - 1).replace(/-+$/, "");
  return `${head}-${hash}`;
}

/** `detour-pricing`: the VirtualService, DestinationRule and HTTPRoute of one service. */
export function serviceRoutingName(service: string): string {
  return dnsLabelName([NAME_PREFIX, service]);
}

/** `detour-pricing-v2`: the per-version Service (GAMMA backendRef) of one version. */
export function versionServiceName(service: string, version: string): string {
  return dnsLabelName([NAME_PREFIX, service, version]);
}

/** `v2`: the DestinationRule subset of one version (Istio requires a DNS-1123 label). */
export function subsetName(version: string): string {
  const folded = version.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  if (folded === version && folded.length <= MAX_LABEL && /^[a-z0-9]/.test(folded) && !folded.endsWith("-")) return folded;
  return dnsLabelName(["v", version]);
}

/** Name of the VirtualService route that sends `version`'s requests to its subset (and of its Envoy route). */
export function versionRouteName(version: string): string {
  return `${NAME_PREFIX}-${subsetName(version)}`;
}

/** Name of the last route: everything else goes to the baseline. */
export const BASELINE_ROUTE_NAME = "detour-baseline";

/** `pricing.shop.svc.cluster.local`. */
export function serviceHost(service: string, namespace: string, clusterDomain: string): string {
  return `${service}.${namespace}.svc.${clusterDomain}`;
}

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends, '-', '_' and '.' between. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/**
 * `version` as the value of the version label, or a clear error: detour's version grammar allows
 * a trailing '.', '_' or '-', which a label value does not, so such a version cannot be selected
 * by pods' labels.
 */
export function versionLabelValue(service: string, version: string, label: string): string {
  if (!LABEL_VALUE.test(version)) {
    throw new DetourError(
      "invalid-config",
      `services.${service}.versions.${version}: '${version}' cannot be the value of the pod label '${label}' (Kubernetes label values end in a letter or digit): rename the version`,
    );
  }
  return version;
}
