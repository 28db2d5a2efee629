// @detour/express propagation overhead: the same hello-world Express app with and without the
// middleware, each loaded by wrk with an x-detour request header, repetitions alternating.
import { fileURLToPath } from "node:url";
import { startChild } from "./child-processes.mjs";
import { sampleProcesses } from "./proc-sampler.mjs";
import { runUndisturbed } from "./quiet-machine.mjs";
import { median } from "./statistics.mjs";
import { runWrk } from "./wrk-runner.mjs";
import { pickMiddleware } from "../express/pick-middleware.mjs";

const APP = fileURLToPath(new URL("../express/hello-world.mjs", import.meta.url));
const HEADERS = { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2", Accept: "text/plain" };

async function startApp(withMiddleware, cpus) {
  const proc = startChild(`express${withMiddleware ? "+detour" : ""}`, process.execPath, [APP, ...(withMiddleware ? ["--middleware"] : [])], { cpus, env: { NODE_ENV: "production" } });
  const match = await proc.waitFor(/^listening (\d+)$/m);
  return { proc, url: `http://127.0.0.1:${match[1]}/hello` };
}

export async function expressOverhead({ quick, cpus, wrk, log, waitForQuiet, retries }) {
  const picked = await pickMiddleware();
  if (picked.middleware === undefined) return { reason: picked.reason };
  const reps = quick ? 2 : 5;
  const seconds = quick ? 3 : 10;
  const apps = { without: await startApp(false, cpus.sut), with: await startApp(true, cpus.sut) };
  try {
    const results = { without: [], with: [] };
    for (const app of Object.values(apps)) await runWrk({ ...wrk, seconds: quick ? 1 : 3, url: app.url, headers: HEADERS });
    for (let i = 0; i < reps; i++) {
      for (const name of i % 2 === 0 ? ["without", "with"] : ["with", "without"]) {
        log(`express ${name} middleware, rep ${i + 1}/${reps}`);
        const run = async () => {
          const sampler = sampleProcesses({ app: apps[name].proc.pid });
          const rep = await runWrk({ ...wrk, seconds, url: apps[name].url, headers: HEADERS, onStart: (pid) => sampler.add("wrk", pid) });
          const processes = sampler.stop();
          return { ...rep, otherCpus: processes.machine?.otherCpus, appCpuMsPer1k: (processes.app.cpuSeconds * 1e6) / rep.requests };
        };
        const { result } = await runUndisturbed(run, { waitForQuiet, retries });
        results[name].push(result);
      }
    }
    const summary = (list) => ({
      rps: median(list.map((r) => r.rps)),
      p50Ms: median(list.map((r) => r.p50Ms)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      appCpuMsPer1k: median(list.map((r) => r.appCpuMsPer1k)),
      otherLoadCpus: median(list.map((r) => r.otherCpus)),
      errors: list.reduce((s, r) => s + r.errors, 0),
    });
    const without = summary(results.without);
    const withMw = summary(results.with);
    // Overhead from throughput (the measure) and, steadier on a shared machine, from the
    // app's CPU per request.
    return {
      middleware: picked.name,
      reps,
      seconds,
      without,
      with: withMw,
      overhead: 1 - withMw.rps / without.rps,
      cpuOverhead: withMw.appCpuMsPer1k / without.appCpuMsPer1k - 1,
    };
  } finally {
    await apps.without.proc.stop();
    await apps.with.proc.stop();
  }
}
