import type { TopologyStatus, VersionStatus } from "@detour/ext-proc/kubernetes";

export interface SandboxListOptions {
  /** Also list versions from detour.yaml (default: discovered versions only, the sandboxes). */
  readonly all?: boolean;
  /** The moment `expires in` counts from (epoch ms). */
  readonly now?: number;
}

/** `2h 5m`, `45s`, `3d 4h`: a short duration for a person. */
export function shortDuration(millis: number): string {
  let seconds = Math.max(0, Math.round(millis / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
    if (parts.length === 2) return parts.join(" ");
  }
  if (parts.length === 0 || seconds !== 0) parts.push(`${seconds}s`);
  return parts.slice(0, 2).join(" ");
}

function state(version: VersionStatus): string {
  if (version.expired === true) return "expired";
  return version.routable ? "live" : "not ready";
}

function expiry(version: VersionStatus, now: number): string {
  if (version.expiresAt === undefined) return "-";
  const at = Date.parse(version.expiresAt);
  return at <= now ? `${version.expiresAt} (passed)` : `${version.expiresAt} (in ${shortDuration(at - now)})`;
}

/**
 * The sandboxes a server knows, one line per version, grouped by service: its state (live,
 * expired, not ready), Ready pods, expiry, and the decisions that requested it and were routed
 * to it. Then the source's health and problems, when there are any.
 */
export function sandboxTable(status: TopologyStatus, options: SandboxListOptions = {}): string {
  const now = options.now ?? Date.now();
  const rows: string[][] = [["SERVICE", "VERSION", "STATE", "PODS", "EXPIRES", "REQUESTED", "APPLIED"]];
  for (const service of status.services) {
    for (const version of service.versions) {
      if (options.all !== true && version.origin === "static") continue;
      rows.push([
        service.name,
        version.name === service.baseline ? `${version.name} (baseline)` : version.name,
        state(version),
        version.readyPods === undefined ? "-" : String(version.readyPods),
        expiry(version, now),
        String(version.requested),
        String(version.applied),
      ]);
    }
  }
  const lines: string[] = [];
  if (rows.length === 1) {
    lines.push(status.source === "kubernetes" ? "no discovered versions" : "no discovered versions: this server reads only its config file (no kubernetes section); --all lists its versions");
  } else {
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) lines.push(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  "));
  }
  const kubernetes = status.kubernetes;
  if (kubernetes !== undefined) {
    if (!kubernetes.synced) lines.push("", "the server has not finished its first list from the API server yet");
    if (kubernetes.stale) lines.push("", `topology stale since ${kubernetes.staleSince}: the server cannot watch the API server and routes on the last topology it saw`);
  }
  if (status.problemCount !== 0) {
    lines.push("", `${status.problemCount} problem(s):`);
    for (const problem of status.problems) lines.push(`  ${problem.code}: ${problem.object === undefined ? "" : `${problem.object}: `}${problem.message}`);
  }
  return `${lines.join("\n")}\n`;
}
