import { parseAllDocuments } from "yaml";
import { DetourError } from "@detour/core";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { isDetourOwned, serviceHost } from "@detour/ext-proc/kubernetes";

/** A VirtualService or DestinationRule someone else owns for a host detour routes. */
export interface RoutingConflict {
  readonly service: string;
  readonly kind: "VirtualService" | "DestinationRule";
  /** `namespace/name` of the object detour must not overwrite. */
  readonly object: string;
}

interface ClusterObject {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: Record<string, string> | null } | null;
  spec?: { hosts?: unknown; host?: unknown; gateways?: unknown } | null;
  items?: unknown;
}

/** Objects of a YAML stream as `kubectl get -o yaml` writes it: documents, `kind: List` items included. */
export function clusterObjectsFromYaml(text: string, what: string): ClusterObject[] {
  const objects: ClusterObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length !== 0) throw new DetourError("usage", `${what}: not YAML: ${document.errors[0]!.message}`);
    const value = document.toJS() as ClusterObject | null;
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value.items)) objects.push(...(value.items as ClusterObject[]));
    else objects.push(value);
  }
  return objects;
}

/**
 * The fully qualified name a host of a VirtualService or DestinationRule in `namespace` means
 * (Istio reads short names relative to the object's namespace): `pricing`, `pricing.shop`,
 * `pricing.shop.svc` and `pricing.shop.svc.cluster.local` are one host.
 */
function qualifiedHost(host: string, namespace: string, clusterDomain: string): string {
  const labels = host.toLowerCase().split(".");
  if (labels.length === 1) return `${host}.${namespace}.svc.${clusterDomain}`;
  if (labels.length === 2) return `${host}.svc.${clusterDomain}`;
  if (labels.length === 3 && labels[2] === "svc") return `${host}.${clusterDomain}`;
  return host.toLowerCase();
}

function covers(host: string, target: string): boolean {
  return host === target || (host.startsWith("*") && target.endsWith(host.slice(1)));
}

/**
 * VirtualServices (applying to sidecars: no `gateways`, or `mesh` among them) and
 * DestinationRules in `existing` that route a host of `services` and do not carry detour's
 * ownership mark. detour must not create a second object for such a host (Istio would pick one
 * of the two) nor change the existing one.
 */
export function routingConflicts(existing: readonly ClusterObject[], services: readonly string[], options: KubernetesOptions): RoutingConflict[] {
  const conflicts: RoutingConflict[] = [];
  for (const object of existing) {
    if ((object.kind !== "VirtualService" && object.kind !== "DestinationRule") || isDetourOwned(object as { metadata?: { labels?: Record<string, string> } })) continue;
    const namespace = typeof object.metadata?.namespace === "string" ? object.metadata.namespace : options.namespace;
    const name = `${namespace}/${String(object.metadata?.name ?? "?")}`;
    let hosts: string[];
    if (object.kind === "VirtualService") {
      const gateways = Array.isArray(object.spec?.gateways) ? (object.spec!.gateways as unknown[]) : [];
      if (gateways.length !== 0 && !gateways.includes("mesh")) continue;
      hosts = Array.isArray(object.spec?.hosts) ? (object.spec!.hosts as unknown[]).filter((host): host is string => typeof host === "string") : [];
    } else {
      hosts = typeof object.spec?.host === "string" ? [object.spec.host] : [];
    }
    const qualified = hosts.map((host) => qualifiedHost(host, namespace, options.clusterDomain));
    for (const service of services) {
      const target = serviceHost(service, options.namespace, options.clusterDomain);
      if (qualified.some((host) => covers(host, target))) conflicts.push({ service, kind: object.kind, object: name });
    }
  }
  return conflicts;
}
