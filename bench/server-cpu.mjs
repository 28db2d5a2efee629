#!/usr/bin/env node
// What one overridden request costs the ext_proc server, measured so that it survives a busy
// machine: CPU time (utime + stime from /proc) per request instead of throughput. Each server
// runs behind its own real Envoy (detour: the generated sidecar config; peers: the same shape,
// bench/harness/envoy-configs.mjs) in front of the shared Go upstream; wrk sends a fixed number
// of overridden requests per round; rounds rotate the order of the servers. For detour's server
// it also reads V8's --trace-gc lines: collections, pause time, allocation per request, and how
// long the main thread stood still for each collection.
// bench/README.md ("Server CPU per request") explains how to read it.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { benchTools, nodeRuntime } from "./harness/bench-tools.mjs";
import { wholeNumberOption } from "./harness/cli-options.mjs";
import { startChild, stopAll } from "./harness/child-processes.mjs";
import { BENCH_WORKLOAD, detourDocument, loadDetour, startDetourServer } from "./harness/detour-stack.mjs";
import { extProcPeerBootstrap, LISTENER } from "./harness/envoy-configs.mjs";
import { startEnvoy } from "./harness/envoy-runner.mjs";
import { makeTempDir, removeTempDir } from "./harness/temp-dirs.mjs";
import { createGcTally, gcDelta } from "./harness/gc-trace.mjs";
import { checkRouting } from "./harness/load-runner.mjs";
import { describeMachine } from "./harness/machine.mjs";
import { sampleProcesses } from "./harness/proc-sampler.mjs";
import { SCENARIOS, TOPOLOGY } from "./harness/scenarios.mjs";
import { startPeerServer, startUpstream } from "./harness/stacks.mjs";
import { median, percentile, ratio } from "./harness/statistics.mjs";
import { runWrk } from "./harness/wrk-runner.mjs";

const execFileAsync = promisify(execFile);
const OVERRIDE = SCENARIOS.find((s) => s.id === "detour-override");

const USAGE = `usage: node bench/server-cpu.mjs [options]
  --servers LIST     servers to compare (default detour@20,detour@22,detour@24,go):
                       detour@20|22|24  detour's built server on that Node line (scripts/install-node)
                       go, rust         the peers of bench/peers (rust only when built)
  --variant JSON     one more server (repeatable), for experiments. A detour server, e.g.
                       '{"id":"semi8","node":"24","extraNodeArgs":["--max-semi-space-size=8"]}';
                       keys: id, node (20|22|24 or a binary), root (another checkout, built),
                       nodeArgs (replace the heap flags), extraNodeArgs, env. Or any ext_proc
                       server that prints "listening 127.0.0.1:PORT":
                       '{"id":"proto","command":["node","proto.mjs"]}'. Either may carry
                       "envoy": {"filter": {…}, "cluster": {…}, "runtime": {…}}, merged into the
                       ext_proc filter's typed_config, the ext_proc cluster and the runtime layer
                       of its Envoy (null deletes a key; "{port}" in a string is the server's port).
  --requests N       overridden requests per server per round (default 20000)
  --rounds N         rounds; each runs every server once, the order rotated (default 3)
  --warmup N         requests per server before the first round (default 5000)
  --connections N    wrk connections (default 32)
  --pin MODE         split (default: wrk + upstream on CPU 0, Envoy + ext_proc server on CPU 1) or none
  --callgrind        run the detour servers under valgrind's callgrind and also report the
                     instructions they execute per request (user space, all threads): a count
                     that barely moves with other load, for A/B comparisons on a busy machine.
                     About 50 times slower: use fewer requests (e.g. --requests 2000 --warmup 1000)
  --cpu-prof DIR     also write a V8 CPU profile of every detour server into DIR/<id>/
                     (summarize with node bench/cpu-profile-summary.mjs DIR/<id>/*.cpuprofile)
  --json FILE        also write the rounds and the summary as JSON`;

function options() {
  const { values } = parseArgs({
    options: {
      servers: { type: "string", default: "detour@20,detour@22,detour@24,go" },
      variant: { type: "string", multiple: true, default: [] },
      requests: { type: "string", default: "20000" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "5000" },
      connections: { type: "string", default: "32" },
      pin: { type: "string", default: "split" },
      "cpu-prof": { type: "string" },
      callgrind: { type: "boolean", default: false },
      json: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.pin !== "split" && values.pin !== "none") {
    console.error("server-cpu: --pin is split or none");
    process.exit(2);
  }
  const servers = values.servers
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec) => {
      const line = /^detour@(\d+)$/.exec(spec);
      if (line) return { id: spec, kind: "detour", node: line[1] };
      if (spec === "go" || spec === "rust") return { id: spec, kind: spec };
      console.error(`server-cpu: unknown server '${spec}'\n${USAGE}`);
      process.exit(2);
    });
  for (const json of values.variant) {
    const variant = JSON.parse(json);
    servers.push(variant.command === undefined ? { kind: "detour", node: "24", ...variant } : { kind: "command", ...variant });
  }
  let counts;
  try {
    counts = {
      requests: wholeNumberOption(values, "requests"),
      rounds: wholeNumberOption(values, "rounds"),
      warmup: wholeNumberOption(values, "warmup", 0),
      connections: wholeNumberOption(values, "connections"),
    };
  } catch (error) {
    console.error(`server-cpu: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  return {
    servers,
    ...counts,
    cpus: values.pin === "split" ? { load: "0", upstream: "0", sut: "1", extProc: "1" } : {},
    cpuProfDir: values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]),
    callgrind: values.callgrind,
    jsonPath: values.json === undefined ? undefined : resolve(values.json),
  };
}

const log = (message) => process.stderr.write(`server-cpu: ${message}\n`);

/** Deep merge of an experiment's patch: objects merge, null deletes, "{port}" becomes the server's port. */
function merge(target, patch, port) {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (typeof value === "object" && !Array.isArray(value) && typeof target[key] === "object" && target[key] !== null) merge(target[key], value, port);
    else target[key] = JSON.parse(JSON.stringify(value).replaceAll("{port}", String(port)));
  }
  return target;
}

/** Applies a variant's "envoy" patch to the ext_proc filter, its cluster and the runtime layer. */
function patchBootstrap(bootstrap, patch, port) {
  if (patch === undefined) return bootstrap;
  const filters = bootstrap.static_resources.listeners.flatMap((l) => l.filter_chains.flatMap((c) => c.filters.flatMap((f) => f.typed_config?.http_filters ?? [])));
  const extProc = filters.filter((f) => f.name === "envoy.filters.http.ext_proc");
  const clusterName = extProc[0]?.typed_config.grpc_service?.envoy_grpc?.cluster_name;
  for (const filter of extProc) merge(filter.typed_config, patch.filter ?? {}, port);
  const cluster = bootstrap.static_resources.clusters.find((c) => c.name === clusterName);
  if (cluster !== undefined) merge(cluster, patch.cluster ?? {}, port);
  const layer = bootstrap.layered_runtime?.layers?.find((l) => l.static_layer !== undefined);
  if (layer !== undefined) merge(layer.static_layer, patch.runtime ?? {}, port);
  return bootstrap;
}

/** A server that is not detour's: a bench peer, or an experiment's command. */
async function startOtherServer(server, ctx) {
  let peer;
  let runtime;
  if (server.kind === "command") {
    const [command, ...args] = server.command;
    const proc = startChild(server.id, command, args, { cpus: ctx.cpus.extProc, env: server.env });
    const match = await proc.waitFor(/^listening 127\.0\.0\.1:(\d+)$/m);
    peer = { proc, host: "127.0.0.1", port: Number(match[1]) };
    runtime = server.command.join(" ");
  } else {
    const bin = ctx.tools[server.kind === "go" ? "go-extproc" : "rust-tonic"];
    if (!bin) throw new Error(`${server.id}: not built (scripts/install-bench-tools)`);
    peer = await startPeerServer(server.id, bin, TOPOLOGY, ctx.cpus.extProc);
    runtime = server.kind === "go" ? ctx.machine.go : ctx.machine.rustc;
  }
  try {
    const bootstrap = patchBootstrap(extProcPeerBootstrap({ ...ctx, extProc: peer, workload: BENCH_WORKLOAD }), server.envoy, peer.port);
    const envoy = await startEnvoy(`envoy-${server.id}`, { ...ctx.envoyOptions, bootstrap });
    return { server, runtime, proc: peer.proc, envoy, listener: LISTENER, stop: () => peer.proc.stop() };
  } catch (error) {
    await peer.proc.stop();
    throw error;
  }
}

async function startServer(server, ctx) {
  if (server.kind !== "detour") return startOtherServer(server, ctx);
  const detour = await loadDetour(server.root === undefined ? undefined : resolve(server.root));
  if (!detour.available) throw new Error(`${server.id}: ${detour.reason}`);
  const { bin: nodeBin, runtime } = nodeRuntime(server.node);
  const extraNodeArgs = [...(server.extraNodeArgs ?? []), "--trace-gc"];
  if (ctx.cpuProfDir !== undefined) {
    const dir = join(ctx.cpuProfDir, server.id.replace(/[^\w.@-]/g, "_"));
    mkdirSync(dir, { recursive: true });
    extraNodeArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`);
  }
  const callgrindDir = ctx.callgrind ? makeTempDir("detour-callgrind-") : undefined;
  const started = await startDetourServer(detour, detourDocument(TOPOLOGY, ctx.endpoints), {
    cpus: ctx.cpus.extProc,
    nodeBin,
    ...(server.nodeArgs === undefined ? {} : { nodeArgs: server.nodeArgs }),
    extraNodeArgs,
    env: server.env,
    ...(callgrindDir === undefined ? {} : { wrapper: ["valgrind", "--tool=callgrind", `--callgrind-out-file=${callgrindDir}/callgrind.out.%p`], readyTimeoutMs: 300_000 }),
  });
  const gc = createGcTally();
  gc.feed(started.server.output());
  started.server.child.stdout.on("data", (chunk) => gc.feed(chunk));
  try {
    const port = Number(started.grpc.slice(started.grpc.lastIndexOf(":") + 1));
    const envoy = await startEnvoy(`envoy-${server.id}`, { ...ctx.envoyOptions, bootstrap: patchBootstrap(started.bootstrap, server.envoy, port) });
    const stop = async () => {
      await started.stop();
      if (callgrindDir !== undefined) removeTempDir(callgrindDir);
    };
    return { server, runtime, proc: started.server, envoy, listener: started.listener, gc, callgrind: callgrindDir !== undefined, stop };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** Instructions a process under callgrind has executed so far, all threads. */
async function instructions(pid) {
  const { stdout } = await execFileAsync("callgrind_control", ["-e", "Ir", String(pid)]);
  let total = 0;
  for (const match of stdout.matchAll(/^\s*Th \d+\s+([\d,]+)\s*$/gm)) total += Number(match[1].replaceAll(",", ""));
  return total;
}

function extProcStreams(stats) {
  let total = 0;
  for (const [name, value] of stats) if (name.endsWith(".ext_proc.streams_started")) total += value;
  return total;
}

/** One fixed-count load against one server; CPU, GC and Envoy's stream count around it. */
async function measure(stack, ctx, requests) {
  const port = stack.envoy.listenerPort(stack.listener);
  const statsBefore = await stack.envoy.stats();
  const gcBefore = stack.gc?.snapshot();
  const instructionsBefore = stack.callgrind ? await instructions(stack.proc.pid) : undefined;
  const sampler = sampleProcesses({ server: stack.proc.pid, envoy: stack.envoy.pid });
  const load = await runWrk({ ...ctx.wrk, url: `http://127.0.0.1:${port}/quote`, headers: OVERRIDE.headers, requests, seconds: 600 });
  // Streams wrk left in flight when it stopped finish (or are reset) within moments.
  await sleep(300);
  const processes = sampler.stop();
  const instructionsAfter = stack.callgrind ? await instructions(stack.proc.pid) : undefined;
  const statsAfter = await stack.envoy.stats();
  const streams = extProcStreams(statsAfter) - extProcStreams(statsBefore);
  const routed = (statsAfter.get(`cluster.${OVERRIDE.expect}.upstream_rq_total`) ?? 0) - (statsBefore.get(`cluster.${OVERRIDE.expect}.upstream_rq_total`) ?? 0);
  if (!stack.proc.running) throw new Error(`${stack.server.id} exited during the load:\n${stack.proc.output().slice(-2000)}`);
  const problems = [];
  if (load.errors > 0) problems.push(`${load.errors} wrk errors`);
  if (routed < load.requests * 0.999) problems.push(`only ${routed} of ${load.requests} requests reached ${OVERRIDE.expect}`);
  // ext_proc over http_service counts no streams: then every request is one call.
  const calls = streams > 0 ? streams : load.requests;
  const perRequestUs = (seconds) => (seconds === undefined || calls === 0 ? undefined : (seconds * 1e6) / calls);
  const gc = gcBefore === undefined ? undefined : gcDelta(stack.gc.snapshot(), gcBefore);
  return {
    requests: load.requests,
    streams,
    serverUs: perRequestUs(processes.server.cpuSeconds),
    serverKInstructions: instructionsBefore === undefined ? undefined : (instructionsAfter - instructionsBefore) / calls / 1000,
    envoyUs: perRequestUs(processes.envoy.cpuSeconds),
    gcPer1k: gc === undefined ? undefined : { collections: (gc.collections * 1000) / calls, pauseMs: (gc.pauseMs * 1000) / calls },
    gcStallsMs: gc === undefined ? undefined : { scavenge: gc.scavengeMs, full: gc.fullMs },
    allocatedKiBPerRequest: gc === undefined || gc.collections < 5 ? undefined : (gc.allocatedMiB * 1024) / calls,
    rps: load.rps,
    p99Ms: load.p99Ms,
    serverRssPeakMiB: processes.server.rssPeakMiB,
    otherCpus: processes.machine.otherCpus,
    problems,
  };
}

const fixed = (value, digits) => (value === undefined ? "–" : value.toFixed(digits));

/**
 * The main-thread GC stalls of all rounds together (a round has only a few full collections):
 * what a request in flight waits for when one comes, which is what the tail latency follows.
 */
function gcStalls(reps) {
  if (!reps.some((r) => r.gcStallsMs !== undefined)) return { scavengeStallMs: {}, fullGcStallMs: {} };
  const scavenge = reps.flatMap((r) => r.gcStallsMs?.scavenge ?? []);
  const full = reps.flatMap((r) => r.gcStallsMs?.full ?? []);
  return {
    scavengeStallMs: { p50: median(scavenge), p90: percentile(scavenge, 0.9) },
    fullGcStallMs: { p50: median(full), count: full.length },
  };
}

function summarize(stacks, rounds) {
  const rows = stacks.map((stack) => {
    const reps = rounds.map((round) => round[stack.server.id]).filter(Boolean);
    const pick = (f) => median(reps.map(f));
    return {
      id: stack.server.id,
      runtime: stack.runtime,
      nodeArgs: stack.server.kind === "detour" ? stack.proc.child.spawnargs.filter((arg) => arg.startsWith("--") && arg !== "--config") : undefined,
      serverUs: pick((r) => r.serverUs),
      serverKInstructions: pick((r) => r.serverKInstructions),
      envoyUs: pick((r) => r.envoyUs),
      sidecarUs: pick((r) => r.serverUs + r.envoyUs),
      gcPausesMsPer1k: pick((r) => r.gcPer1k?.pauseMs),
      gcsPer1k: pick((r) => r.gcPer1k?.collections),
      allocatedKiBPerRequest: pick((r) => r.allocatedKiBPerRequest),
      ...gcStalls(reps),
      rps: pick((r) => r.rps),
      p99Ms: pick((r) => r.p99Ms),
      serverRssPeakMiB: Math.max(...reps.map((r) => r.serverRssPeakMiB ?? 0)),
      otherCpus: pick((r) => r.otherCpus),
      problems: reps.flatMap((r) => r.problems),
    };
  });
  // Paired: each round's value over the first server's in the same round, median over rounds.
  // Other load drifts between rounds; within a round the servers ran back to back, so this
  // ratio moves much less than the ratio of medians.
  const first = stacks[0].server.id;
  const paired = (id, pick) => median(rounds.map((round) => (round[id] && round[first] ? ratio(pick(round[id]), pick(round[first])) : undefined)));
  const go = rows.find((row) => row.id === "go");
  for (const row of rows) {
    row.serverVsFirstPaired = paired(row.id, (r) => r.serverUs);
    row.sidecarVsFirstPaired = paired(row.id, (r) => r.serverUs + r.envoyUs);
    row.serverVsGo = ratio(row.serverUs, go?.serverUs);
    row.instructionsVsFirst = ratio(row.serverKInstructions, rows.find((r) => r.serverKInstructions !== undefined)?.serverKInstructions);
    row.sidecarVsGo = ratio(row.sidecarUs, go?.sidecarUs);
  }
  return rows;
}

function table(rows, settings) {
  const lines = [
    `${settings.rounds} rounds × ${settings.requests} overridden requests per server, wrk -t1 -c${settings.connections}; medians over rounds; "paired" is the median of each round's ratio to the first server. CPU is utime+stime from /proc per ext_proc stream.`,
    "",
  ];
  if (settings.callgrind) {
    lines.push(
      "Instructions per request (callgrind, user space, all threads; servers under valgrind, so their CPU columns below are valgrind's):",
      "",
      "| server | runtime | k instructions/req | vs first |",
      "|---|---|---:|---:|",
      ...rows.filter((r) => r.serverKInstructions !== undefined).map((r) => `| ${r.id} | ${r.runtime} | ${fixed(r.serverKInstructions, 1)} | ${fixed(r.instructionsVsFirst, 3)}× |`),
      "",
    );
  }
  lines.push(
    `| server | runtime | server CPU µs/req | vs Go | vs ${rows[0].id} (paired) | Envoy CPU µs/req | sidecar µs/req | vs Go | vs ${rows[0].id} (paired) | GC pause ms/1k req | GCs/1k req | scavenge stall ms p50 / p90 | full GC stall ms p50 (count) | allocated KiB/req | RSS peak MiB | rps | p99 ms | other load (CPUs) |`,
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of rows) {
    lines.push(
      `| ${r.id} | ${r.runtime ?? ""} | ${fixed(r.serverUs, 1)} | ${fixed(r.serverVsGo, 2)}× | ${fixed(r.serverVsFirstPaired, 2)}× | ${fixed(r.envoyUs, 1)} | ${fixed(r.sidecarUs, 1)} | ${fixed(r.sidecarVsGo, 2)}× | ${fixed(r.sidecarVsFirstPaired, 2)}× | ${fixed(r.gcPausesMsPer1k, 1)} | ${fixed(r.gcsPer1k, 2)} | ${fixed(r.scavengeStallMs.p50, 1)} / ${fixed(r.scavengeStallMs.p90, 1)} | ${r.fullGcStallMs.count === undefined ? "–" : `${fixed(r.fullGcStallMs.p50, 1)} (${r.fullGcStallMs.count})`} | ${fixed(r.allocatedKiBPerRequest, 1)} | ${fixed(r.serverRssPeakMiB, 1)} | ${fixed(r.rps, 0)} | ${fixed(r.p99Ms, 2)} | ${fixed(r.otherCpus, 2)} |`,
    );
  }
  const problems = rows.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`));
  if (problems.length) lines.push("", "Problems:", ...problems.map((p) => `- ${p}`));
  return lines.join("\n");
}

async function main() {
  const settings = options();
  const tools = await benchTools({ rust: settings.servers.some((s) => s.kind === "rust") ? "cached" : "skip" });
  const machine = describeMachine({ envoyBin: tools.envoy, wrkBin: tools.wrk });
  const cpus = settings.cpus;
  const upstream = await startUpstream({ bin: tools.upstream, topology: TOPOLOGY, cpus: cpus.upstream });
  const ctx = {
    tools,
    machine,
    topology: TOPOLOGY,
    endpoints: upstream.endpoints,
    cpus,
    cpuProfDir: settings.cpuProfDir,
    callgrind: settings.callgrind,
    envoyOptions: { envoyBin: tools.envoy, concurrency: 1, cpus: cpus.sut },
    wrk: { wrkBin: tools.wrk, connections: settings.connections, threads: 1, cpus: cpus.load },
  };
  const stacks = [];
  for (const server of settings.servers) {
    log(`starting ${server.id}`);
    const stack = await startServer(server, ctx);
    stacks.push(stack);
    log(`warm-up ${server.id} (${stack.runtime}): ${settings.warmup} requests`);
    if (settings.warmup > 0) {
      const warm = await measure(stack, ctx, settings.warmup);
      if (warm.problems.length) log(`warm-up ${server.id}: ${warm.problems.join("; ")}`);
    }
    // After the warm-up: a server under valgrind can miss Envoy's message timeout while cold.
    await checkRouting(stack, OVERRIDE);
  }
  const rounds = [];
  for (let round = 0; round < settings.rounds; round++) {
    const shift = round % stacks.length;
    const order = [...stacks.slice(shift), ...stacks.slice(0, shift)];
    const results = {};
    for (const stack of order) {
      const result = await measure(stack, ctx, settings.requests);
      results[stack.server.id] = result;
      log(`round ${round + 1}/${settings.rounds} ${stack.server.id}: server ${fixed(result.serverUs, 1)} µs/req, Envoy ${fixed(result.envoyUs, 1)} µs/req, ${fixed(result.rps, 0)} rps, other load ${fixed(result.otherCpus, 2)} CPUs`);
    }
    rounds.push(results);
  }
  for (const stack of stacks) {
    await stack.envoy.stop();
    await stack.stop();
  }
  await upstream.proc.stop();
  const rows = summarize(stacks, rounds);
  const report = table(rows, settings);
  console.log(`Machine: ${machine.nproc} × ${machine.cpuModel}, Linux ${machine.kernel}; Envoy ${machine.envoy}; wrk ${machine.wrk}\n`);
  console.log(report);
  if (settings.jsonPath !== undefined) {
    mkdirSync(dirname(settings.jsonPath), { recursive: true });
    writeFileSync(settings.jsonPath, `${JSON.stringify({ schema: "detour-server-cpu/1", at: new Date().toISOString(), settings, machine, summary: rows, rounds }, null, 2)}\n`);
    log(`wrote ${settings.jsonPath}`);
  }
}

main()
  .catch((error) => {
    process.stderr.write(`server-cpu: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
