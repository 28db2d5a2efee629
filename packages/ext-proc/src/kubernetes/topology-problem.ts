/**
 * What discovery could not use as the cluster says it, by kind. Conflicts (two sources disagree)
 * are never resolved by guessing: the documented rule applies (detour.yaml wins, or the disputed
 * part is left out) and the problem is reported in the log, a metric and the status endpoint.
 */
export type TopologyProblemCode =
  /** One service name has Ready pods or a baseline-annotated Service in two watched namespaces: a name means one service. */
  | "service-in-several-namespaces"
  /** A discovered service has no baseline (no detour.yaml entry, no detour.dev/baseline annotation). */
  | "no-baseline"
  /** detour.yaml and the Service's detour.dev/baseline annotation name different baselines. */
  | "baseline-disagrees"
  /** detour.yaml and the Service's detour.dev/miss annotation name different miss policies. */
  | "miss-disagrees"
  /** Two sources of one workload's injection (detour.yaml, pod templates) say different things. */
  | "inject-disagrees"
  /** A discovered service name is a host of another service in detour.yaml. */
  | "name-taken-by-host"
  /** A pod's service label is not a DNS label. */
  | "invalid-label"
  /** A detour.dev annotation's value cannot be read. */
  | "invalid-annotation";

export const TOPOLOGY_PROBLEM_CODES: readonly TopologyProblemCode[] = [
  "service-in-several-namespaces",
  "no-baseline",
  "baseline-disagrees",
  "miss-disagrees",
  "inject-disagrees",
  "name-taken-by-host",
  "invalid-label",
  "invalid-annotation",
];

export interface TopologyProblem {
  readonly code: TopologyProblemCode;
  /** One line: what is wrong, what detour does about it, and what to change. */
  readonly message: string;
  readonly service?: string;
  readonly version?: string;
  /** The object it concerns: `Kind namespace/name`. */
  readonly object?: string;
}

/** `Deployment shop/pricing-pr-7`. */
export function objectRef(kind: string, metadata: { readonly namespace: string; readonly name: string }): string {
  return `${kind} ${metadata.namespace}/${metadata.name}`;
}

/** A key that identifies one problem across rebuilds (a problem is logged when it first appears). */
export function problemKey(problem: TopologyProblem): string {
  return `${problem.code}|${problem.object ?? ""}|${problem.service ?? ""}|${problem.version ?? ""}`;
}
