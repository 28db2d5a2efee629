import { detourConfigSchema, type DetourConfig } from "@detour/ext-proc";

/**
 * A topology of `services` services with `versions` versions each (`svc-00` … with `v1` … as
 * versions, `v1` the baseline), every fifth service rejecting misses, a workload per service
 * baseline and one sandbox workload injecting `*=v2`: the larger install the Kubernetes tests
 * render next to the demo.
 */
export function generatedTopology(services: number, versions: number): DetourConfig {
  const document: Record<string, unknown> = { services: {}, workloads: {} };
  for (let s = 0; s < services; s++) {
    const name = `svc-${String(s).padStart(2, "0")}`;
    (document.services as Record<string, unknown>)[name] = {
      baseline: "v1",
      ...(s % 5 === 0 ? { miss: "reject" } : {}),
      versions: Object.fromEntries(Array.from({ length: versions }, (_, v) => [`v${v + 1}`, {}])),
    };
    (document.workloads as Record<string, unknown>)[`${name}/v1`] = {};
  }
  (document.workloads as Record<string, unknown>)["svc-00/v2"] = { inject: "*=v2" };
  return detourConfigSchema.parse(document);
}
