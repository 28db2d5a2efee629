// @detour/express propagation overhead: the same hello-world Express app loaded by wrk with an
// x-detour + baggage request, repetitions interleaved and rotated, in five installs:
//   without:        no detour at all
//   light:          the light install, what setupDetour() does without an OpenTelemetry SDK, plus
//                   app.use(detour()): an AsyncLocalStorage context manager, the propagator, and
//                   outbound headers added on Node's diagnostics channels (no instrumentation, no
//                   spans). Light vs without is a target
//   with:           the OpenTelemetry install, setupDetour({ outbound: "opentelemetry" }) +
//                   app.use(detour()): the same context manager and propagator, with
//                   instrumentation-http (a span per request) and instrumentation-undici
//   setupOnly:      that setupDetour() alone: with vs setupOnly is what the middleware adds to it,
//                   which the middleware target judges ("with vs without the middleware"); with vs
//                   without is reported
//   middlewareOnly: app.use(detour()) without setupDetour(), a reference only:
//                   with no context manager context.with/bind are no-ops, so it only shows the
//                   middleware's parsing cost (outbound calls would carry nothing)
import { fileURLToPath } from "node:url";
import { startChild } from "./child-processes.mjs";
import { sampleProcesses } from "./proc-sampler.mjs";
import { runUndisturbed } from "./quiet-machine.mjs";
import { median } from "./statistics.mjs";
import { runWrk } from "./wrk-runner.mjs";
import { pickMiddleware, pickSetup } from "../express/pick-middleware.mjs";

const APP = fileURLToPath(new URL("../express/hello-world.mjs", import.meta.url));
const HEADERS = { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2", Accept: "text/plain" };
const INSTALLS = {
  without: [],
  light: ["--light", "--middleware"],
  with: ["--setup", "--middleware"],
  setupOnly: ["--setup"],
  middlewareOnly: ["--middleware"],
};

async function startApp(name, cpus) {
  const proc = startChild(`express:${name}`, process.execPath, [APP, ...INSTALLS[name]], { cpus, env: { NODE_ENV: "production" } });
  const match = await proc.waitFor(/^listening (\d+)$/m);
  return { proc, url: `http://127.0.0.1:${match[1]}/hello` };
}

export async function expressOverhead({ quick, cpus, wrk, log, waitForQuiet, retries }) {
  const picked = await pickMiddleware();
  if (picked.middleware === undefined) return { reason: picked.reason };
  const setup = await pickSetup();
  if (setup.setupDetour === undefined) return { reason: setup.reason };
  const reps = quick ? 2 : 5;
  const seconds = quick ? 3 : 10;
  const names = Object.keys(INSTALLS);
  const apps = {};
  try {
    for (const name of names) apps[name] = await startApp(name, cpus.sut);
    const results = Object.fromEntries(names.map((name) => [name, []]));
    for (const app of Object.values(apps)) await runWrk({ ...wrk, seconds: quick ? 1 : 3, url: app.url, headers: HEADERS });
    for (let i = 0; i < reps; i++) {
      // Rotated so that no install always runs right after the same other one.
      for (const name of names.map((_, j) => names[(i + j) % names.length])) {
        log(`express ${name}, rep ${i + 1}/${reps}`);
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
    const s = Object.fromEntries(names.map((name) => [name, summary(results[name])]));
    // Overhead from throughput (what the target is stated in) and, steadier on a shared machine, from the
    // app's CPU per request.
    const overheads = (a, b) => ({ overhead: 1 - a.rps / b.rps, cpuOverhead: a.appCpuMsPer1k / b.appCpuMsPer1k - 1 });
    return {
      middleware: picked.name,
      reps,
      seconds,
      ...s,
      // The OpenTelemetry install against no detour (reported); its target is middlewareInInstall.
      ...overheads(s.with, s.without),
      lightInstall: overheads(s.light, s.without),
      setupOnlyOverhead: overheads(s.setupOnly, s.without),
      middlewareInInstall: overheads(s.with, s.setupOnly),
      middlewareOnlyOverhead: overheads(s.middlewareOnly, s.without),
    };
  } finally {
    for (const app of Object.values(apps)) await app.proc.stop();
  }
}
