/*
 * What the server keeps of the objects it watches. A Pod as the API server sends it is several
 * kilobytes (spec, status, managed fields); the informers store these projections instead, the
 * way client-go informers take a transform, so watching thousands of pods costs little memory.
 * Each projection is still a Kubernetes object to the informer (name, namespace, resourceVersion).
 */

/** Prefix of the annotations detour reads; all others are dropped. */
const DETOUR_ANNOTATION_PREFIX = "detour.dev/";

export interface MetadataView {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The `detour.dev/*` annotations only. */
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339, as the API server writes it. */
  readonly creationTimestamp: string | undefined;
}

export interface PodView {
  readonly kind: "Pod";
  readonly metadata: MetadataView;
  /** Condition Ready is True and the pod is not terminating (as an EndpointSlice counts it ready). */
  readonly ready: boolean;
}

export interface ServiceView {
  readonly kind: "Service";
  readonly metadata: MetadataView;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

export interface DeploymentView {
  readonly kind: "Deployment";
  readonly metadata: MetadataView;
  readonly selector: LabelSelector | undefined;
  /** Labels and `detour.dev/*` annotations of the pod template. */
  readonly template: { readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };
}

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  // The official client's typed models turn timestamps into Dates.
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().replace(/\.000Z$/, "Z");
  return undefined;
}

function stringMap(value: unknown, prefix?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(record(value))) {
    if (typeof entry === "string" && (prefix === undefined || key.startsWith(prefix))) out[key] = entry;
  }
  return out;
}

function metadataView(object: unknown): MetadataView {
  const metadata = record(record(object).metadata);
  return {
    name: text(metadata.name) ?? "",
    namespace: text(metadata.namespace) ?? "",
    uid: text(metadata.uid) ?? "",
    resourceVersion: text(metadata.resourceVersion) ?? "",
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations, DETOUR_ANNOTATION_PREFIX),
    creationTimestamp: text(metadata.creationTimestamp),
  };
}

export function podView(object: unknown): PodView {
  const metadata = record(record(object).metadata);
  const conditions = record(record(object).status).conditions;
  const ready =
    metadata.deletionTimestamp == null &&
    Array.isArray(conditions) &&
    conditions.some((condition) => record(condition).type === "Ready" && record(condition).status === "True");
  return { kind: "Pod", metadata: metadataView(object), ready };
}

export function serviceView(object: unknown): ServiceView {
  return { kind: "Service", metadata: metadataView(object) };
}

function selectorView(value: unknown): LabelSelector | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const selector = record(value);
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return {
    matchLabels: stringMap(selector.matchLabels),
    matchExpressions: expressions.map((entry) => {
      const requirement = record(entry);
      return {
        key: text(requirement.key) ?? "",
        operator: text(requirement.operator) ?? "",
        values: Array.isArray(requirement.values) ? requirement.values.filter((item): item is string => typeof item === "string") : [],
      };
    }),
  };
}

export function deploymentView(object: unknown): DeploymentView {
  const spec = record(record(object).spec);
  const template = record(record(spec.template).metadata);
  return {
    kind: "Deployment",
    metadata: metadataView(object),
    selector: selectorView(spec.selector),
    template: { labels: stringMap(template.labels), annotations: stringMap(template.annotations, DETOUR_ANNOTATION_PREFIX) },
  };
}

/**
 * Whether a label selector selects `labels` (Kubernetes semantics: every matchLabels pair and
 * every expression must hold; an empty selector selects everything; an unknown operator nothing).
 */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) if (labels[key] !== value) return false;
  for (const requirement of selector.matchExpressions) {
    const has = Object.hasOwn(labels, requirement.key);
    const value = labels[requirement.key];
    switch (requirement.operator) {
      case "In":
        if (!has || !requirement.values.includes(value!)) return false;
        break;
      case "NotIn":
        if (has && requirement.values.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
