// Runs the load of one scenario repetition and measures what happened around it: wrk's numbers,
// CPU and RSS of Envoy / the ext_proc server / the upstream, and Envoy's own counters (which
// cluster served the requests, ext_proc stream outcomes).
import { request } from "node:http";
import { sampleProcesses } from "./proc-sampler.mjs";
import { runWrk } from "./wrk-runner.mjs";
import { PATH } from "./scenarios.mjs";

/** Envoy counters compared before/after each repetition. */
const EXT_PROC_STAT = /\.ext_proc\.(streams_started|streams_failed|stream_msgs_sent|message_timeouts|failure_mode_allowed|spurious_msgs_received|rejected_header_mutations|clear_route_cache_ignored|streams_closed)$/;

function interestingStats(stats, expectCluster) {
  const picked = {};
  for (const [name, value] of stats) {
    if (name === `cluster.${expectCluster}.upstream_rq_total`) picked.expectedClusterRequests = value;
    const ext = EXT_PROC_STAT.exec(name);
    if (ext) picked[`ext_proc.${ext[1]}`] = (picked[`ext_proc.${ext[1]}`] ?? 0) + value;
    // GOAWAYs / resets from the ext_proc server show up as remote connection closes.
    const cx = /^cluster\.(?:bench_ext_proc|detour_ext_proc)\.(upstream_cx_total|upstream_cx_destroy_remote|upstream_rq_timeout)$/.exec(name);
    if (cx) picked[`ext_proc_cluster.${cx[1]}`] = value;
  }
  picked.expectedClusterRequests ??= 0;
  return picked;
}

function delta(after, before) {
  const out = {};
  for (const [key, value] of Object.entries(after)) out[key] = value - (before[key] ?? 0);
  return out;
}

/** One request through the stack; resolves with status and body text. */
export function probe(port, headers) {
  return new Promise((resolve, reject) => {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const req = request({ host: "127.0.0.1", port, path: PATH, headers: lower, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Checks that the stack routes the scenario's request where it must before loading it. */
export async function checkRouting(stack, scenario) {
  const port = stack.envoy.listenerPort(stack.listener);
  for (let attempt = 0; ; attempt++) {
    const { status, body } = await probe(port, scenario.headers);
    if (status === 200 && body.trim() === scenario.expect) return;
    // The first request may race the ext_proc connection coming up (fail-open -> baseline).
    if (attempt >= 5) throw new Error(`${scenario.id}: expected 200 from ${scenario.expect}, got ${status} '${body.trim()}'`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runLoad({ stack, scenario, upstream, wrk }) {
  const port = stack.envoy.listenerPort(stack.listener);
  const before = interestingStats(await stack.envoy.stats(), scenario.expect);
  const sampler = sampleProcesses({
    envoy: stack.envoy.pid,
    extProc: stack.extProc?.proc.pid,
    upstream: upstream.proc.pid,
  });
  const result = await runWrk({ ...wrk, url: `http://127.0.0.1:${port}${PATH}`, headers: scenario.headers, onStart: (pid) => sampler.add("wrk", pid) });
  const processes = sampler.stop();
  const stats = delta(interestingStats(await stack.envoy.stats(), scenario.expect), before);
  if (stack.extProc && !stack.extProc.proc.running) throw new Error(`${stack.extProc.name} exited during the load:\n${stack.extProc.proc.output().slice(-2000)}`);
  if (!stack.envoy.proc.running) throw new Error(`envoy exited during the load:\n${stack.envoy.proc.output().slice(-2000)}`);
  return { ...result, processes, stats };
}
