import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { DetourConfig } from "@detour/ext-proc";
import type { LoadCase } from "./load-generator.js";

interface MixEntry {
  name: string;
  via: string;
  authority: string;
  /** Defaults to the authority. */
  service?: string;
  headers?: Record<string, string | string[]>;
  override?: string;
}

/** test/reliability/traffic-mix.yaml as load cases for `config`'s baselines. */
export function trafficMix(config: DetourConfig): LoadCase[] {
  const entries = parse(readFileSync(new URL("../traffic-mix.yaml", import.meta.url), "utf8")) as MixEntry[];
  return entries.map((entry) => {
    const service = entry.service ?? entry.authority;
    const spec = config.services[service];
    if (spec === undefined) throw new Error(`traffic-mix.yaml '${entry.name}': ${service} is not a service of the topology`);
    if (entry.override !== undefined && !Object.hasOwn(spec.versions, entry.override)) {
      throw new Error(`traffic-mix.yaml '${entry.name}': ${service} has no version ${entry.override}`);
    }
    return { via: entry.via, authority: entry.authority, headers: entry.headers ?? {}, service, baseline: spec.baseline, override: entry.override };
  });
}

/** The i-th request of the steady mix. */
export function cycle(cases: readonly LoadCase[]): (index: number) => LoadCase {
  return (index) => cases[index % cases.length]!;
}
