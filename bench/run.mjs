#!/usr/bin/env node
// detour benchmark harness (bench/README.md). `npm run bench -- [--quick] [--json FILE]`
//
// One run, one machine, one Envoy version, one upstream: plain Envoy, detour's skip and override
// paths (real server, real generated sidecar config), a Lua filter and a Go ext_proc peer with
// the same rule (and an optional Rust peer), each loaded by wrk for a fixed time, several
// repetitions interleaved across scenarios; plus the codec, wire reader and Express middleware
// microbenchmarks. Writes bench/results/latest.json and .md and prints the Markdown table.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { wholeNumberOption } from "./harness/cli-options.mjs";
import { benchTools, nodeRuntime } from "./harness/bench-tools.mjs";
import { stopAll } from "./harness/child-processes.mjs";
import { describeMachine } from "./harness/machine.mjs";
import { markdownReport } from "./harness/markdown-report.mjs";
import { runMicro } from "./harness/micro.mjs";
import { createQuietWaiter, NOISY_OTHER_CPUS, runUndisturbed } from "./harness/quiet-machine.mjs";
import { checkRouting, runLoad } from "./harness/load-runner.mjs";
import { SCENARIOS, TOPOLOGY } from "./harness/scenarios.mjs";
import { STACKS, startUpstream } from "./harness/stacks.mjs";
import { runWrk } from "./harness/wrk-runner.mjs";
import { addRatios, evaluateTargets, summarizeScenario } from "./harness/summarize.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Fixed load settings per mode. quick: CI smoke, well under 2 minutes of load in total;
 * full: what bench/README.md's table comes from.
 */
const MODES = {
  quick: { warmupSeconds: 2, seconds: 5, reps: 2, microQuick: true, quietBudgetSeconds: 0, noisyRetries: 0 },
  full: { warmupSeconds: 5, seconds: 15, reps: 5, microQuick: false, quietBudgetSeconds: 300, noisyRetries: 12 },
};

/**
 * Which CPUs (taskset lists) each part gets on the 2-core machine: load = wrk, upstream = the
 * Go upstream, sut = Envoy, extProc = the ext_proc server. undefined = not pinned.
 */
const PINNING = {
  split: { load: "0", upstream: "0", sut: "1", extProc: "1", description: "wrk + upstream pinned to CPU 0, Envoy + ext_proc server to CPU 1 (taskset)" },
  sut: { load: "0", upstream: "1", sut: "1", extProc: "1", description: "wrk pinned to CPU 0, Envoy + ext_proc server + upstream to CPU 1 (taskset)" },
  none: { load: undefined, upstream: undefined, sut: undefined, extProc: undefined, description: "no CPU pinning (wrk, upstream, Envoy, ext_proc server share both CPUs)" },
};

const USAGE = `usage: node bench/run.mjs [--quick] [--json FILE] [--only id,id] [--no-micro]
  --quick                  CI smoke: ${MODES.quick.reps} x ${MODES.quick.seconds} s per scenario (default: full, ${MODES.full.reps} x ${MODES.full.seconds} s)
  --json FILE              where to write the JSON result (default bench/results/latest.json;
                           the Markdown table goes next to it as .md)
  --only IDS               run only these scenarios (${SCENARIOS.map((s) => s.id).join(", ")})
  --no-micro               skip the microbenchmarks (codec, wire reader, Express)
  --connections N          wrk connections (default 32)
  --envoy-concurrency N    Envoy worker threads (default 1)
  --server-node LINE|PATH  the Node that runs detour's server: 20, 22 or 24 (scripts/install-node)
                           or a binary (default 24, the runtime docs/operations.md recommends)
  --pin MODE               CPU pinning with taskset (default split):
                             split: wrk + upstream on CPU 0, Envoy + ext_proc server on CPU 1
                             sut:   wrk on CPU 0, Envoy + ext_proc server + upstream on CPU 1
                             none:  no pinning, the kernel schedules everything on both CPUs
  --reps N, --seconds N    override the mode's repetitions / seconds per repetition
  --quiet-budget S         before each repetition wait until the machine is idle (< 0.25 CPUs
                           busy), spending at most S seconds on that in the whole run
                           (default: quick ${MODES.quick.quietBudgetSeconds}, full ${MODES.full.quietBudgetSeconds})
  --noisy-retries N        repeat at most N repetitions in the whole run that ran with other
                           load above ${NOISY_OTHER_CPUS} CPUs (default: quick ${MODES.quick.noisyRetries}, full ${MODES.full.noisyRetries})`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      only: { type: "string" },
      "no-micro": { type: "boolean", default: false },
      connections: { type: "string", default: "32" },
      "envoy-concurrency": { type: "string", default: "1" },
      "server-node": { type: "string", default: "24" },
      pin: { type: "string", default: "split" },
      reps: { type: "string" },
      seconds: { type: "string" },
      "quiet-budget": { type: "string" },
      "noisy-retries": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const mode = values.quick ? "quick" : "full";
  let settings;
  try {
    settings = {
      mode,
      ...MODES[mode],
      threads: 1,
      connections: wholeNumberOption(values, "connections"),
      envoyConcurrency: wholeNumberOption(values, "envoy-concurrency"),
      pin: values.pin,
      serverNode: values["server-node"],
    };
    if (values.reps !== undefined) settings.reps = wholeNumberOption(values, "reps");
    if (values.seconds !== undefined) settings.seconds = wholeNumberOption(values, "seconds");
    if (values["quiet-budget"] !== undefined) settings.quietBudgetSeconds = wholeNumberOption(values, "quiet-budget", 0);
    if (values["noisy-retries"] !== undefined) settings.noisyRetries = wholeNumberOption(values, "noisy-retries", 0);
  } catch (error) {
    console.error(`bench: ${error.message}`);
    process.exit(2);
  }
  if (!Object.hasOwn(PINNING, settings.pin)) {
    console.error(`bench: --pin ${settings.pin}: use one of ${Object.keys(PINNING).join(", ")}`);
    process.exit(2);
  }
  settings.pinning = PINNING[settings.pin].description;
  return {
    settings,
    jsonPath: resolve(values.json ?? `${HERE}/results/latest.json`),
    only: values.only?.split(",").map((s) => s.trim()),
    micro: !values["no-micro"],
  };
}

const log = (message) => process.stderr.write(`bench: ${message}\n`);

async function main() {
  const { settings, jsonPath, only, micro } = options();
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  log(`${settings.mode} mode: installing/locating tools`);
  // quick (CI smoke) never starts the Rust peer's multi-minute first build; it uses a built one.
  const tools = await benchTools({ rust: settings.mode === "quick" ? "cached" : "build" });
  const machine = describeMachine({ envoyBin: tools.envoy, wrkBin: tools.wrk });
  const serverNode = nodeRuntime(settings.serverNode);
  settings.serverNode = serverNode.runtime;
  log(`detour's server runs on ${serverNode.runtime} (${serverNode.bin})`);
  const { description: _, ...cpus } = PINNING[settings.pin];
  const wrk = { wrkBin: tools.wrk, seconds: settings.seconds, connections: settings.connections, threads: settings.threads, cpus: cpus.load };

  const upstream = await startUpstream({ bin: tools.upstream, topology: TOPOLOGY, cpus: cpus.upstream });
  const ctx = {
    tools,
    topology: TOPOLOGY,
    endpoints: upstream.endpoints,
    cpus,
    envoyOptions: { envoyBin: tools.envoy, concurrency: settings.envoyConcurrency, cpus: cpus.sut },
    serverNode,
    // What runs each ext_proc server, recorded per scenario.
    runtimes: { go: machine.go, rust: machine.rustc },
  };

  // Start every stack once; scenarios on the same stack share it.
  const selected = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
  const stacks = new Map();
  const rows = new Map();
  for (const scenario of selected) {
    const def = STACKS[scenario.stack];
    if (!stacks.has(scenario.stack)) {
      const availability = def.available ? await def.available(ctx) : { available: true };
      if (!availability.available) {
        stacks.set(scenario.stack, { unavailable: availability.reason });
      } else {
        log(`starting ${def.title}`);
        try {
          stacks.set(scenario.stack, await def.start(ctx));
        } catch (error) {
          stacks.set(scenario.stack, { error: error.message });
        }
      }
    }
    const stack = stacks.get(scenario.stack);
    if (stack.unavailable) rows.set(scenario.id, { id: scenario.id, n: scenario.n, title: scenario.title, status: "not available", reason: stack.unavailable });
    else if (stack.error) rows.set(scenario.id, { id: scenario.id, n: scenario.n, title: scenario.title, status: "error", reason: stack.error.split("\n")[0], detail: stack.error });
  }
  const runnable = selected.filter((s) => !rows.has(s.id));
  if (ctx.fairness && !ctx.fairness.matches) {
    log(`WARNING: the peers' ext_proc settings differ from detour's generated config:\n  ${ctx.fairness.differences.join("\n  ")}`);
  }

  // Routing check and warm-up, then repetitions interleaved across scenarios (each round in a
  // rotated order) so drift on the shared machine spreads over all scenarios alike.
  const reps = new Map(runnable.map((s) => [s.id, []]));
  const failed = new Map();
  for (const scenario of runnable) {
    const stack = stacks.get(scenario.stack);
    try {
      await checkRouting(stack, scenario);
      log(`warm-up ${scenario.id} (${settings.warmupSeconds} s)`);
      await runWrk({ ...wrk, seconds: settings.warmupSeconds, url: `http://127.0.0.1:${stack.envoy.listenerPort(stack.listener)}/quote`, headers: scenario.headers });
    } catch (error) {
      failed.set(scenario.id, error.message);
    }
  }
  const waitForQuiet = createQuietWaiter({ budgetSeconds: settings.quietBudgetSeconds });
  const retries = { left: settings.noisyRetries };
  const discarded = new Map(runnable.map((s) => [s.id, []]));
  let quietWaitSeconds = 0;
  for (let round = 0; round < settings.reps; round++) {
    const order = runnable.filter((s) => !failed.has(s.id));
    const rotated = [...order.slice(round % Math.max(order.length, 1)), ...order.slice(0, round % Math.max(order.length, 1))];
    for (const scenario of rotated) {
      log(`round ${round + 1}/${settings.reps}: ${scenario.id} (${settings.seconds} s)`);
      try {
        const run = async () => {
          const rep = await runLoad({ stack: stacks.get(scenario.stack), scenario, upstream, wrk });
          return Object.assign(rep, { otherCpus: rep.processes.machine?.otherCpus });
        };
        const { result, discarded: noisy, waited } = await runUndisturbed(run, { waitForQuiet, retries });
        quietWaitSeconds += waited;
        if (noisy.length) log(`  ${noisy.length} disturbed repetition(s) of ${scenario.id} run again (other load ${noisy.map((r) => r.otherCpus.toFixed(2)).join(", ")} CPUs)`);
        discarded.get(scenario.id).push(...noisy);
        reps.get(scenario.id).push(result);
      } catch (error) {
        failed.set(scenario.id, error.message);
      }
    }
  }
  for (const scenario of runnable) {
    if (failed.has(scenario.id)) {
      const message = failed.get(scenario.id);
      rows.set(scenario.id, { id: scenario.id, n: scenario.n, title: scenario.title, status: "error", reason: message.split("\n")[0], detail: message });
    } else {
      const row = summarizeScenario(scenario, reps.get(scenario.id));
      row.discardedReps = discarded.get(scenario.id).map((r) => ({ rps: Math.round(r.rps), p99Ms: r.p99Ms, otherLoadCpus: Number(r.otherCpus.toFixed(2)) }));
      rows.set(scenario.id, { ...row, expect: scenario.expect, extProcRuntime: stacks.get(scenario.stack).runtime ?? null });
    }
  }
  const scenarioRows = selected.map((s) => rows.get(s.id));
  addRatios(scenarioRows);

  for (const stack of stacks.values()) {
    if (stack.envoy) await stack.envoy.stop();
    if (stack.detour) await stack.detour.stop();
    else if (stack.extProc) await stack.extProc.proc.stop();
  }
  await upstream.proc.stop();

  const microResults = micro ? await runMicro({ quick: settings.microQuick, tools, cpus, wrk, log, waitForQuiet, retries }) : { skipped: true };
  const result = {
    schema: "detour-bench/1",
    startedAt,
    durationSeconds: Math.round((Date.now() - t0) / 1000),
    quietWaitSeconds: Math.round(quietWaitSeconds),
    settings,
    machine,
    loadGenerator: `wrk ${machine.wrk ?? ""} (Debian), closed loop, -t${settings.threads} -c${settings.connections}, latency from wrk's histogram`,
    topology: TOPOLOGY,
    // Whether the peers' ext_proc filter/cluster equal detour's generated ones (when it ran).
    fairness: ctx.fairness ?? null,
    scenarios: scenarioRows,
    micro: microResults,
  };
  result.targets = evaluateTargets(scenarioRows, microResults);
  const markdown = markdownReport(result);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  const mdPath = jsonPath.replace(/\.json$/, "") + ".md";
  writeFileSync(mdPath, `${markdown}\n`);
  console.log(markdown);
  log(`wrote ${jsonPath} and ${mdPath} in ${result.durationSeconds} s`);
  // A scenario that could not run because its code is not there is reported, not a failure;
  // one that broke while running is.
  const broken = scenarioRows.filter((row) => row.status === "error");
  if (broken.length) {
    for (const row of broken) log(`scenario ${row.id} failed: ${row.detail ?? row.reason}`);
    process.exitCode = 1;
  }
}

main()
  .catch((error) => {
    process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
