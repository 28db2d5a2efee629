/**
 * Call trees as the demo services answer them ({ service, version, calls }), in two forms:
 * a compact one-line notation used as the expectation in examples/demo-requests.yaml
 * (`frontend@v1(catalog@v2(pricing@v2),cart@v1)`, a failed call as `catalog!503`), and an
 * indented drawing for people that marks which hops an override moved off the baseline.
 */

/** One hop: the answer of a service, or a call that failed. */
export type CallNode =
  | { readonly service: string; readonly version: string; readonly calls: readonly CallNode[] }
  | { readonly service: string; readonly status?: number; readonly error: string };

export function isFailure(node: CallNode): node is Extract<CallNode, { error: string }> {
  return "error" in node;
}

/** Reads an answer body into a tree; anything not of the demo's shape becomes a failure node. */
export function callNodeFromJson(value: unknown, fallbackService = "?"): CallNode {
  if (typeof value !== "object" || value === null) return { service: fallbackService, error: `not an answer: ${JSON.stringify(value)}` };
  const record = value as Record<string, unknown>;
  const service = typeof record.service === "string" ? record.service : fallbackService;
  if (typeof record.error === "string") {
    return typeof record.status === "number" ? { service, status: record.status, error: record.error } : { service, error: record.error };
  }
  if (typeof record.version !== "string") return { service, error: "answer names no version" };
  const calls = Array.isArray(record.calls) ? record.calls.map((call) => callNodeFromJson(call)) : [];
  return { service, version: record.version, calls };
}

/** `frontend@v1(catalog@v2(pricing@v2),cart@v1)`; a failure is `service!status` (or `service!error`). */
export function compactTree(node: CallNode): string {
  if (isFailure(node)) return `${node.service}!${node.status ?? "error"}`;
  const head = `${node.service}@${node.version}`;
  return node.calls.length === 0 ? head : `${head}(${node.calls.map(compactTree).join(",")})`;
}

/** What the drawing needs to know about the topology and the request. */
export interface TreeContext {
  /** Baseline version per service: a hop served by another version was overridden. */
  readonly baselines: ReadonlyMap<string, string>;
  /**
   * The version each service was named with on this request, to explain a hop that stayed on
   * the baseline although the override named it (a miss with the `fallback` policy).
   */
  readonly requested?: ReadonlyMap<string, string>;
  /** Whether the root hop gets a note too (not for a job, whose root is the workload itself). */
  readonly markRoot?: boolean;
}

/** A hop's note: marks a hop an override moved off the baseline, or a named version that missed. */
export function hopNote(node: CallNode, context: TreeContext): string {
  if (isFailure(node)) return node.status === undefined ? `✗ ${node.error}` : `✗ ${node.status} ${node.error}`;
  const baseline = context.baselines.get(node.service);
  if (baseline !== undefined && node.version !== baseline) return "← overridden";
  const asked = context.requested?.get(node.service);
  if (asked !== undefined && asked !== node.version) return `(asked ${asked}: no such version, baseline served)`;
  return "";
}

/**
 * Draws the tree, one hop per line:
 * ```
 * frontend@v1
 * ├─ catalog@v2  ← overridden
 * │  └─ pricing@v2  ← overridden
 * └─ cart@v1
 * ```
 */
export function drawTree(root: CallNode, context: TreeContext): string[] {
  const lines: string[] = [];
  const label = (node: CallNode) => {
    const name = isFailure(node) ? node.service : `${node.service}@${node.version}`;
    const note = hopNote(node, context);
    return note ? `${name}  ${note}` : name;
  };
  const walk = (node: CallNode, prefix: string) => {
    if (isFailure(node)) return;
    node.calls.forEach((child, index) => {
      const last = index === node.calls.length - 1;
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${label(child)}`);
      walk(child, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  lines.push(context.markRoot === false ? (isFailure(root) ? label(root) : `${root.service}@${root.version}`) : label(root));
  walk(root, "");
  return lines;
}
