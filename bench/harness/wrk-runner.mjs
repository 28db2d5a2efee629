// Drives one scenario with wrk (Debian's wrk 4: closed loop, fixed connections and threads)
// for a fixed duration, or a fixed number of responses, and returns its numbers from the
// report.lua done() hook.
import { fileURLToPath } from "node:url";
import { startChild } from "./child-processes.mjs";

const REPORT_SCRIPT = fileURLToPath(new URL("../wrk/report.lua", import.meta.url));

/**
 * `requests` (with threads = 1) stops wrk after that many responses; `seconds` is then only the
 * longest it may take.
 * @param {{wrkBin: string, url: string, headers: Record<string,string>, seconds: number,
 *          requests?: number, connections: number, threads: number, cpus?: string,
 *          onStart?: (pid: number) => void}} options
 */
export async function runWrk({ wrkBin, url, headers, seconds, requests, connections, threads, cpus, onStart }) {
  if (requests !== undefined && threads !== 1) throw new Error("runWrk: a request count needs threads = 1 (report.lua counts per thread)");
  const args = ["-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--timeout", "2s", "-s", REPORT_SCRIPT, url];
  const env = { BENCH_HEADERS: Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\n") };
  if (requests !== undefined) env.BENCH_REQUESTS = String(requests);
  // The load is bounded by -d; the kill timer is only a backstop for a wedged wrk.
  const proc = startChild("wrk", wrkBin, args, { cpus, env });
  onStart?.(proc.pid);
  // report.lua stopped sending; SIGINT ends wrk's -d sleep and it reports.
  if (requests !== undefined) proc.waitFor(/^BENCH_LIMIT_REACHED$/m, (seconds + 30) * 1000).then(() => proc.child.kill("SIGINT"), () => {});
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
