import { COMPONENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PART_OF_LABEL, PART_OF_VALUE } from "./kubernetes-names.js";

/** A Kubernetes object as the generator writes it: plain data, ready for YAML. */
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

/** Which part of detour an object belongs to (the `app.kubernetes.io/component` label). */
export type DetourComponent = "ext-proc" | "routing" | "sidecar" | "edge";

/**
 * Metadata of an object detour owns: its name and namespace and the labels that mark it as
 * detour's (kubernetes-names.ts), so detour never mistakes someone else's object for its own.
 */
export function ownedMetadata(name: string, namespace: string, component: DetourComponent, labels: Readonly<Record<string, string>> = {}): ObjectMeta {
  return {
    name,
    namespace,
    labels: { ...labels, [COMPONENT_LABEL]: component, [PART_OF_LABEL]: PART_OF_VALUE, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
  };
}

/** True when `object` carries detour's ownership mark. */
export function isDetourOwned(object: { metadata?: { labels?: Record<string, string> | null } | null }): boolean {
  return object.metadata?.labels?.[PART_OF_LABEL] === PART_OF_VALUE;
}
