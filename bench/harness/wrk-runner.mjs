// Drives one scenario with wrk (Debian's wrk 4: closed loop, fixed connections and threads)
// for a fixed duration and returns its numbers from the report.lua done() hook.
import { fileURLToPath } from "node:url";
import { startChild } from "./child-processes.mjs";

const REPORT_SCRIPT = fileURLToPath(new URL("../wrk/report.lua", import.meta.url));

/**
 * @param {{wrkBin: string, url: string, headers: Record<string,string>, seconds: number,
 *          connections: number, threads: number, cpus?: string, onStart?: (pid: number) => void}} options
 */
export async function runWrk({ wrkBin, url, headers, seconds, connections, threads, cpus, onStart }) {
  const args = ["-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--timeout", "2s", "-s", REPORT_SCRIPT, url];
  const env = { BENCH_HEADERS: Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\n") };
  // The load is bounded by -d; the kill timer is only a backstop for a wedged wrk.
  const proc = startChild("wrk", wrkBin, args, { cpus, env });
  onStart?.(proc.pid);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), (seconds + 30) * 1000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  const output = proc.output();
  const line = output.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}):\n${output.slice(-2000)}`);
  const report = JSON.parse(line.slice("BENCH_JSON ".length));
  const errors = Object.values(report.errors).reduce((a, b) => a + b, 0);
  return {
    rps: report.requests / (report.duration_us / 1e6),
    requests: report.requests,
    durationS: report.duration_us / 1e6,
    p50Ms: report.latency_us.p50 / 1000,
    p90Ms: report.latency_us.p90 / 1000,
    p99Ms: report.latency_us.p99 / 1000,
    p999Ms: report.latency_us.p999 / 1000,
    maxMs: report.latency_us.max / 1000,
    errors,
    errorDetail: report.errors,
  };
}
