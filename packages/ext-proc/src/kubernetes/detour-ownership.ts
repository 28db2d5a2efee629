/*
 * The mark on every object detour creates in a cluster. `app.kubernetes.io/part-of: detour` is
 * the ownership mark: detour changes only objects carrying it, and never one without it, so an
 * object a team wrote is never overwritten. `managed-by` says which tool wrote it (Helm sets its
 * own at install, so ownership never depends on it).
 */

export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF_VALUE = "detour";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "detour";
export const NAME_LABEL = "app.kubernetes.io/name";
export const COMPONENT_LABEL = "app.kubernetes.io/component";

/** Which part of detour an object belongs to (the `app.kubernetes.io/component` label). */
export type DetourComponent = "ext-proc" | "routing" | "sidecar" | "edge";

/** The labels of an object detour owns. */
export function ownedLabels(component: DetourComponent, labels: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { ...labels, [COMPONENT_LABEL]: component, [PART_OF_LABEL]: PART_OF_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
}

/** True when `object` carries detour's ownership mark. */
export function isDetourOwned(object: { metadata?: { labels?: Record<string, string> | null } | null } | undefined): boolean {
  return object?.metadata?.labels?.[PART_OF_LABEL] === PART_OF_VALUE;
}

/** A Kubernetes object as detour writes it: plain data, ready for YAML or server-side apply. */
export interface KubernetesObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Metadata of an object detour owns: its name and namespace and the labels that mark it as
 * detour's, so detour never mistakes someone else's object for its own.
 */
export function ownedMetadata(name: string, namespace: string, component: DetourComponent, labels: Readonly<Record<string, string>> = {}): ObjectMeta {
  return { name, namespace, labels: ownedLabels(component, labels) };
}
