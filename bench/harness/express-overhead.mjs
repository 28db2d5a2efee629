// @detour/express propagation overhead: the same hello-world Express app, loaded by wrk with an
// x-detour + baggage request, in five installs:
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
// One more comparison, light vs without on requests with no override carrier
// (lightInstallNoOverride), reports what the light install costs the requests that carry none,
// most of a real service's traffic: they run in the context they arrived in, so no context switch
// and no listener binding.
//
// Each comparison runs its two apps side by side: both on the same CPU, each saturated by its own
// wrk at the same time, so both see the same machine, and both new processes every round (see
// pairRound). The result is the CPU each app spent per request, read from /proc over the same
// seconds. Loaded one after the other instead, identical apps differ by more than the 5 % being
// judged on a shared host, where an app's speed drifts by a quarter within seconds;
// `node bench/express/compare.mjs --variants plain,plain` shows this method's own spread. The
// throughput cost is what that CPU per request means for a saturated app: 1 − without/with. Each
// overhead is the median over rounds of the ratio within the round.
import { fileURLToPath } from "node:url";
import { startChild } from "./child-processes.mjs";
import { sampleProcesses } from "./proc-sampler.mjs";
import { runUndisturbed } from "./quiet-machine.mjs";
import { median } from "./statistics.mjs";
import { runWrk } from "./wrk-runner.mjs";
import { pickMiddleware, pickSetup } from "../express/pick-middleware.mjs";

const APP = fileURLToPath(new URL("../express/hello-world.mjs", import.meta.url));
const HEADERS = { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2", Accept: "text/plain" };
const NO_OVERRIDE_HEADERS = { Accept: "text/plain" };
const INSTALLS = {
  without: [],
  light: ["--light", "--middleware"],
  with: ["--setup", "--middleware"],
  setupOnly: ["--setup"],
  middlewareOnly: ["--middleware"],
};

/** One hello-world app: `node hello-world.mjs ...args` ({ file, args, name }), pinned to `cpus`. */
async function startApp({ name, file = APP, args, node = process.execPath }, cpus) {
  const proc = startChild(`express:${name}`, node, [file, ...args], { cpus, env: { NODE_ENV: "production" } });
  try {
    const match = await proc.waitFor(/^listening (\d+)$/m);
    return { proc, url: `http://127.0.0.1:${match[1]}/hello` };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/**
 * The comparisons, each as [install, its baseline, request headers (default HEADERS)]; keys are the
 * result's field names.
 */
const PAIRS = {
  overhead: ["with", "without"],
  lightInstall: ["light", "without"],
  lightInstallNoOverride: ["light", "without", NO_OVERRIDE_HEADERS],
  setupOnlyOverhead: ["setupOnly", "without"],
  middlewareInInstall: ["with", "setupOnly"],
  middlewareOnlyOverhead: ["middlewareOnly", "without"],
};

/**
 * Apps ({ proc, url }) loaded at once, each by its own wrk, for `seconds`; each one's wrk numbers
 * and CPU ms per 1k requests, and the other load on the machine meanwhile.
 */
async function sideBySide(apps, { wrk, seconds, headers }) {
  const sampler = sampleProcesses(Object.fromEntries(apps.map((app, i) => [`app${i}`, app.proc.pid])));
  // Both wrks run to their end before a failure of one is reported, and the sampler always stops.
  const settled = await Promise.allSettled(
    apps.map((app, i) => runWrk({ ...wrk, seconds, url: app.url, headers, onStart: (pid) => sampler.add(`wrk${i}`, pid) })),
  );
  const processes = sampler.stop();
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  const reps = settled.map((outcome) => outcome.value);
  return {
    otherCpus: processes.machine?.otherCpus,
    apps: reps.map((rep, i) => ({ ...rep, appCpuMsPer1k: (processes[`app${i}`].cpuSeconds * 1e6) / rep.requests })),
  };
}

/**
 * One round of a comparison: `measured` and `base` (app specs for startApp) start as new
 * processes, warm up side by side, are measured side by side (a disturbed measurement is run again
 * while `retries` last, see runUndisturbed) and stop. New processes every round, because one
 * process can stay a few percent faster or slower than another running the same code for its
 * whole life. `swap` starts `base` and its wrk first. Returns { measured, base, otherCpus }.
 */
export async function pairRound(measured, base, { cpus, wrk, seconds, warmupSeconds, headers = HEADERS, swap = false, waitForQuiet, retries }) {
  const specs = swap ? [base, measured] : [measured, base];
  const apps = [];
  try {
    for (const spec of specs) apps.push(await startApp(spec, cpus));
    await sideBySide(apps, { wrk, seconds: warmupSeconds, headers });
    const { result } = await runUndisturbed(() => sideBySide(apps, { wrk, seconds, headers }), {
      waitForQuiet: waitForQuiet ?? (async () => 0),
      retries: retries ?? { left: 0 },
    });
    const [first, second] = result.apps;
    return swap ? { measured: second, base: first, otherCpus: result.otherCpus } : { measured: first, base: second, otherCpus: result.otherCpus };
  } finally {
    for (const app of apps) await app.proc.stop();
  }
}

export async function expressOverhead({ quick, cpus, wrk, log, waitForQuiet, retries }) {
  const picked = await pickMiddleware();
  if (picked.middleware === undefined) return { reason: picked.reason };
  const setup = await pickSetup();
  if (setup.setupDetour === undefined) return { reason: setup.reason };
  const reps = quick ? 2 : 8;
  const seconds = quick ? 2 : 4;
  const warmupSeconds = quick ? 1 : 2;
  const names = Object.keys(INSTALLS);
  const rounds = Object.fromEntries(Object.keys(PAIRS).map((key) => [key, []]));
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let i = 0; i < reps; i++) {
    for (const [key, [measured, base, headers = HEADERS]] of Object.entries(PAIRS)) {
      log(`express ${measured} beside ${base}${headers === HEADERS ? "" : " (no override)"}, rep ${i + 1}/${reps}`);
      const round = await pairRound(
        { name: measured, args: INSTALLS[measured] },
        { name: base, args: INSTALLS[base] },
        { cpus: cpus.sut, wrk, seconds, warmupSeconds, headers, swap: i % 2 === 1, waitForQuiet, retries },
      );
      rounds[key].push(round);
      // The per-install summaries describe the override request only.
      if (headers !== HEADERS) continue;
      samples[measured].push({ ...round.measured, otherCpus: round.otherCpus });
      samples[base].push({ ...round.base, otherCpus: round.otherCpus });
    }
  }
  // Per install, over every comparison it took part in (side by side, so rps is its share of the CPU).
  const summary = (list) => ({
    rps: median(list.map((r) => r.rps)),
    p50Ms: median(list.map((r) => r.p50Ms)),
    p99Ms: median(list.map((r) => r.p99Ms)),
    appCpuMsPer1k: median(list.map((r) => r.appCpuMsPer1k)),
    otherLoadCpus: median(list.map((r) => r.otherCpus)),
    errors: list.reduce((s, r) => s + r.errors, 0),
  });
  const overheads = (list) => {
    const ratios = list.map(({ measured, base }) => measured.appCpuMsPer1k / base.appCpuMsPer1k);
    const cpuOverhead = median(ratios) - 1;
    return { overhead: 1 - 1 / (1 + cpuOverhead), cpuOverhead, rounds: ratios };
  };
  const { overhead: all, ...others } = Object.fromEntries(Object.entries(rounds).map(([key, list]) => [key, overheads(list)]));
  return {
    middleware: picked.name,
    reps,
    seconds,
    method: "side by side, new processes every round",
    ...Object.fromEntries(names.map((name) => [name, summary(samples[name])])),
    // The OpenTelemetry install against no detour (reported); its target is middlewareInInstall.
    ...all,
    ...others,
  };
}
