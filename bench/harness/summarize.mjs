// Turns repetitions into the numbers of latest.json: medians per scenario, CPU per 1k requests,
// RSS peaks, routing checks, ratios against plain Envoy and the Go peer, and the targets.
import { BASELINE_ID, GO_PEER_ID, TARGETS } from "./scenarios.mjs";
import { max, median, ratio } from "./statistics.mjs";

const round = (value, digits = 3) => (value === undefined ? undefined : Number(value.toFixed(digits)));

function cpuPer1k(reps, name) {
  let cpu = 0;
  let requests = 0;
  for (const rep of reps) {
    const seconds = rep.processes[name]?.cpuSeconds;
    if (seconds === undefined) return undefined;
    cpu += seconds;
    requests += rep.requests;
  }
  // CPU milliseconds per 1000 requests.
  return requests === 0 ? undefined : (cpu * 1000 * 1000) / requests;
}

function sumStats(reps) {
  const total = {};
  for (const rep of reps) for (const [key, value] of Object.entries(rep.stats)) total[key] = (total[key] ?? 0) + value;
  return total;
}

export function summarizeScenario(scenario, reps) {
  const requests = reps.reduce((s, r) => s + r.requests, 0);
  const stats = sumStats(reps);
  const errors = reps.reduce((s, r) => s + r.errors, 0);
  // Fraction of the load Envoy sent to the cluster the scenario must reach.
  const routedToExpected = requests === 0 ? undefined : Math.min(1, stats.expectedClusterRequests / requests);
  const streams = stats["ext_proc.streams_started"] ?? 0;
  const problems = [];
  if (errors > 0) problems.push(`${errors} wrk errors (non-2xx/socket/timeout)`);
  if (routedToExpected !== undefined && routedToExpected < 0.999) problems.push(`only ${(routedToExpected * 100).toFixed(2)}% of requests reached ${scenario.expect}`);
  if (scenario.extProcExpected === false && streams > 0) problems.push(`${streams} ext_proc streams on the skip path (expected none)`);
  if (scenario.extProcExpected === true && streams < requests * 0.999) problems.push(`only ${streams} ext_proc streams for ${requests} requests`);
  for (const key of ["ext_proc.streams_failed", "ext_proc.message_timeouts", "ext_proc.failure_mode_allowed", "ext_proc.spurious_msgs_received", "ext_proc.rejected_header_mutations", "ext_proc.clear_route_cache_ignored"]) {
    if ((stats[key] ?? 0) > 0) problems.push(`${key} = ${stats[key]}`);
  }
  return {
    id: scenario.id,
    n: scenario.n,
    title: scenario.title,
    status: "ok",
    repetitions: reps.length,
    rps: round(median(reps.map((r) => r.rps)), 1),
    p50Ms: round(median(reps.map((r) => r.p50Ms))),
    p99Ms: round(median(reps.map((r) => r.p99Ms))),
    p999Ms: round(median(reps.map((r) => r.p999Ms))),
    requests,
    errors,
    routedToExpected: round(routedToExpected, 5),
    extProcCpuMsPer1k: round(cpuPer1k(reps, "extProc"), 1),
    envoyCpuMsPer1k: round(cpuPer1k(reps, "envoy"), 1),
    // What the sidecar (Envoy + its ext_proc server) spends per request: on a dedicated core this
    // bounds throughput, and unlike rps it barely moves when other work shares the machine.
    sidecarCpuMsPer1k: round((cpuPer1k(reps, "envoy") ?? 0) + (cpuPer1k(reps, "extProc") ?? 0), 1),
    upstreamCpuMsPer1k: round(cpuPer1k(reps, "upstream"), 1),
    extProcRssPeakMiB: round(max(reps.map((r) => r.processes.extProc?.rssPeakMiB)), 1),
    extProcAnonPeakMiB: round(max(reps.map((r) => r.processes.extProc?.anonPeakMiB)), 1),
    envoyRssPeakMiB: round(max(reps.map((r) => r.processes.envoy?.rssPeakMiB)), 1),
    wrkCpuMsPer1k: round(cpuPer1k(reps, "wrk"), 1),
    // Median CPUs busy with other work during the repetitions: near 0 on a quiet machine.
    otherLoadCpus: round(median(reps.map((r) => r.processes.machine?.otherCpus)), 2),
    envoyStats: stats,
    problems,
    reps: reps.map((r) => ({
      rps: round(r.rps, 1),
      p50Ms: round(r.p50Ms),
      p99Ms: round(r.p99Ms),
      requests: r.requests,
      errors: r.errors,
      extProcCpuS: round(r.processes.extProc?.cpuSeconds, 2),
      envoyCpuS: round(r.processes.envoy?.cpuSeconds, 2),
      extProcRssPeakMiB: round(r.processes.extProc?.rssPeakMiB, 1),
      otherLoadCpus: round(r.processes.machine?.otherCpus, 2),
    })),
  };
}

/** Adds ratios against scenario 1 and the Go peer to every measured row. */
export function addRatios(rows) {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const base = byId.get(BASELINE_ID);
  const go = byId.get(GO_PEER_ID);
  for (const row of rows) {
    if (row.status !== "ok") continue;
    const measured = (other) => (other?.status === "ok" ? other : undefined);
    const ratios = (other) => ({
      rps: round(ratio(row.rps, other?.rps)),
      p99: round(ratio(row.p99Ms, other?.p99Ms)),
      sidecarCpu: round(ratio(row.sidecarCpuMsPer1k, other?.sidecarCpuMsPer1k)),
    });
    row.vsPlain = ratios(measured(base));
    row.vsGo = ratios(measured(go));
  }
}

function verdict(checks) {
  if (checks.some((c) => c === undefined)) return "not measured";
  return checks.every(Boolean) ? "met" : "missed";
}

export function evaluateTargets(rows, micro) {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const pair = (target) => {
    const row = byId.get(target.scenario);
    const against = byId.get(target.against);
    if (row?.status !== "ok" || against?.status !== "ok") return { ...target, verdict: "not measured", reason: `${target.scenario} or ${target.against} not measured` };
    const rps = ratio(row.rps, against.rps);
    const p99 = ratio(row.p99Ms, against.p99Ms);
    return { ...target, rpsRatio: round(rps), p99Ratio: round(p99), verdict: verdict([rps >= target.minRps, p99 <= target.maxP99]) };
  };
  const rssRows = TARGETS.extProcRssMiB.scenarios.map((id) => byId.get(id)).filter((row) => row?.status === "ok");
  const rss = max(rssRows.map((row) => row.extProcRssPeakMiB));
  const anon = max(rssRows.map((row) => row.extProcAnonPeakMiB));
  const codec = micro.codec?.geoMeanRatio;
  // "With vs without the middleware" in the install users run: both apps call setupDetour(); the
  // cost of setupDetour() itself (OpenTelemetry's instrumentation-http) is reported beside it.
  const overhead = micro.express?.middlewareInInstall?.overhead;
  // The light install as a whole (setupDetour() without an SDK + app.use(detour())) against no detour.
  const light = micro.express?.lightInstall?.overhead;
  return {
    skipVsPlain: pair(TARGETS.skipVsPlain),
    overrideVsGo: pair(TARGETS.overrideVsGo),
    extProcRssMiB: { ...TARGETS.extProcRssMiB, peakMiB: rss, privatePeakMiB: anon, verdict: rss === undefined ? "not measured" : verdict([rss <= TARGETS.extProcRssMiB.max]) },
    extProcCpuPer1kOverridden: {
      msPer1k: byId.get("detour-override")?.extProcCpuMsPer1k,
      verdict: "reported",
    },
    codecVsOtel: { ...TARGETS.codecVsOtel, ratio: codec, verdict: codec === undefined ? "not measured" : verdict([codec >= TARGETS.codecVsOtel.min]) },
    expressOverhead: { ...TARGETS.expressOverhead, overhead, verdict: overhead === undefined ? "not measured" : verdict([overhead <= TARGETS.expressOverhead.maxOverhead]) },
    lightInstall: { ...TARGETS.lightInstall, overhead: light, verdict: light === undefined ? "not measured" : verdict([light <= TARGETS.lightInstall.maxOverhead]) },
  };
}
