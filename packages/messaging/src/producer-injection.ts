import type { OverrideSet } from "@detour/core";
import type { TopologySource } from "./topology-source.js";
import { parseWorkload } from "./workload.js";

/** Options shared by every producer wrapper. */
export interface DetourProducerOptions {
  /**
   * The workload this producer runs in (`service/version`). With `topology`, the workload's
   * injected override (detour.yaml `workloads.<w>.inject`, e.g. `*=pr-7` for a sandbox's jobs) is
   * merged under every message's override, as its sidecar does for HTTP calls.
   */
  readonly workload?: string;
  readonly topology?: TopologySource;
}

/** The injection lookup for a producer: undefined when it injects nothing. */
export function producerInjection(options: DetourProducerOptions | undefined, where: string): () => OverrideSet | undefined {
  if (options?.workload === undefined) return () => undefined;
  const workload = parseWorkload(options.workload, where);
  const topology = options.topology;
  if (topology === undefined) return () => undefined;
  return () => topology.current()?.injection(workload.key);
}
