import { EXT_PROC_CLUSTER } from "@detour/cli";

/** Envoy's ext_proc filter counters summed over every listener (`http.<prefix>.ext_proc.<name>`). */
export function extProcFilterTotals(stats: ReadonlyMap<string, number>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [name, value] of stats) {
    const match = /^http\.[^.]+\.ext_proc\.(.+)$/.exec(name);
    if (match) totals[match[1]!] = (totals[match[1]!] ?? 0) + value;
  }
  return totals;
}

/** The ext_proc cluster's connection counters (`cluster.detour_ext_proc.<name>`). */
export function extProcClusterStats(stats: ReadonlyMap<string, number>): Record<string, number> {
  const prefix = `cluster.${EXT_PROC_CLUSTER}.`;
  const out: Record<string, number> = {};
  for (const [name, value] of stats) if (name.startsWith(prefix)) out[name.slice(prefix.length)] = value;
  return out;
}

/** `a - b` for every counter in `a`. */
export function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) out[name] = value - (before[name] ?? 0);
  return out;
}

/** "name=value" for the given counters (0 when absent), for notes. */
export function pick(stats: Record<string, number>, names: readonly string[]): string {
  return names.map((name) => `${name}=${stats[name] ?? 0}`).join(", ");
}
