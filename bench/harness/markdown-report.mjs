// The human-readable side of latest.json: the Markdown tables bench/README.md quotes.

const num = (value, digits = 0) => (value === undefined || value === null ? "–" : Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const x = (value) => (value === undefined || value === null ? "–" : `${Number(value).toFixed(2)}×`);

export function markdownReport(result) {
  const { machine, settings, scenarios, targets, micro } = result;
  const lines = [];
  lines.push(`**${settings.mode} run**, ${result.startedAt}: ${settings.reps} × ${settings.seconds} s per scenario after ${settings.warmupSeconds} s warm-up, wrk ${machine.wrk ?? "?"} -t${settings.threads} -c${settings.connections}, Envoy ${machine.envoy} --concurrency ${settings.envoyConcurrency}, ${settings.pinning}.`);
  lines.push(`Machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; Node ${machine.node} (harness), ${machine.go ?? "no Go"}. detour's server on ${settings.serverNode ?? `node ${machine.node}`}.`);
  lines.push("");
  lines.push("| # | scenario | rps | p50 ms | p99 ms | rps vs 1 | p99 vs 1 | rps vs Go | p99 vs Go | ext_proc CPU ms/1k req | Envoy CPU ms/1k req | sidecar CPU vs 1 | sidecar CPU vs Go | ext_proc RSS MiB | other load (CPUs) | checks |");
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const row of scenarios) {
    if (row.status !== "ok") {
      lines.push(`| ${row.n} | ${row.title} | **${row.status}** | | | | | | | | | | | | | ${row.reason ?? ""} |`);
      continue;
    }
    const checks = row.problems.length ? row.problems.join("; ") : `ok (${(row.routedToExpected * 100).toFixed(1)}% → ${row.expect ?? "expected"})`;
    lines.push(
      `| ${row.n} | ${row.title} | ${num(row.rps)} | ${num(row.p50Ms, 2)} | ${num(row.p99Ms, 2)} | ${x(row.vsPlain?.rps)} | ${x(row.vsPlain?.p99)} | ${x(row.vsGo?.rps)} | ${x(row.vsGo?.p99)} | ${num(row.extProcCpuMsPer1k, 0)} | ${num(row.envoyCpuMsPer1k, 0)} | ${x(row.vsPlain?.sidecarCpu)} | ${x(row.vsGo?.sidecarCpu)} | ${num(row.extProcRssPeakMiB, 1)} | ${num(row.otherLoadCpus, 2)} | ${checks} |`,
    );
  }
  lines.push("");
  lines.push("| target | wanted | measured | verdict |");
  lines.push("|---|---|---|---|");
  const t = targets;
  lines.push(`| skip path vs plain Envoy (2 vs 1) | rps ≥ ${t.skipVsPlain.minRps}, p99 ≤ ${t.skipVsPlain.maxP99} | rps ${x(t.skipVsPlain.rpsRatio)}, p99 ${x(t.skipVsPlain.p99Ratio)} | ${t.skipVsPlain.verdict} |`);
  lines.push(`| override path vs Go peer (3 vs 5) | rps ≥ ${t.overrideVsGo.minRps}, p99 ≤ ${t.overrideVsGo.maxP99} | rps ${x(t.overrideVsGo.rpsRatio)}, p99 ${x(t.overrideVsGo.p99Ratio)} | ${t.overrideVsGo.verdict} |`);
  lines.push(`| detour ext_proc RSS under load | ≤ ${t.extProcRssMiB.max} MiB | ${num(t.extProcRssMiB.peakMiB, 1)} MiB peak (private ${num(t.extProcRssMiB.privatePeakMiB, 1)} MiB) | ${t.extProcRssMiB.verdict} |`);
  lines.push(`| detour ext_proc CPU per 1k overridden requests | reported | ${num(t.extProcCpuPer1kOverridden.msPer1k, 0)} ms | ${t.extProcCpuPer1kOverridden.msPer1k === undefined ? "not measured" : "reported"} |`);
  lines.push(`| codec vs OTel W3CBaggagePropagator | ≥ ${t.codecVsOtel.min}× | ${x(t.codecVsOtel.ratio)} | ${t.codecVsOtel.verdict}${micro.codec?.reason ? ` (${micro.codec.reason})` : ""} |`);
  const wire = micro.wireReader;
  const wireRatio = (r) => (r === undefined ? "–" : `${x(r.geoMean)} (worst ${x(r.worst)})`);
  lines.push(`| ext_proc wire reader vs the same scan on BinaryReader / vs fromBinary | reported | ${wireRatio(wire?.vsBinaryReader)} / ${wireRatio(wire?.vsFromBinary)} | ${wire?.vsBinaryReader === undefined ? `not measured${wire?.reason ? ` (${wire.reason})` : ""}` : "reported"} |`);
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  const both = (o) => (o === undefined ? "–" : `${pct(o.overhead)} throughput${o.cpuOverhead === undefined || Number.isNaN(o.cpuOverhead) ? "" : `, ${pct(o.cpuOverhead)} app CPU per request`}`);
  const express = micro.express;
  const reason = express?.reason ? ` (${express.reason})` : "";
  // The split (see harness/express-overhead.mjs): the light install is judged whole against no detour; in the
  // OpenTelemetry install the target is the middleware on top of setupDetour(), and what that setupDetour()
  // (instrumentation-http's spans) costs by itself is a separate, reported row.
  const lightTarget = t.lightInstall ?? { maxOverhead: 0.05, verdict: "not measured" };
  lines.push(`| light install (setupDetour() without an SDK + app.use(detour()), hello world) vs no detour | ≤ ${pct(lightTarget.maxOverhead)} throughput | ${both(express?.lightInstall)} | ${lightTarget.verdict}${reason} |`);
  lines.push(`| light install vs no detour, requests without an override | reported | ${both(express?.lightInstallNoOverride)} | ${express?.lightInstallNoOverride === undefined ? "not measured" : "reported"} |`);
  lines.push(`| @detour/express middleware in the OpenTelemetry install (hello world; with vs without app.use(detour()), both with setupDetour({ outbound: "opentelemetry" })) | ≤ ${pct(t.expressOverhead.maxOverhead)} throughput | ${both(express?.middlewareInInstall)} | ${t.expressOverhead.verdict}${reason} |`);
  lines.push(`| OpenTelemetry install (setupDetour({ outbound: "opentelemetry" }) + app.use(detour())) vs no detour | reported | ${both(express?.overhead === undefined ? undefined : express)}; that setupDetour() alone ${both(express?.setupOnlyOverhead)}; middleware without setupDetour() ${both(express?.middlewareOnlyOverhead)} | ${express?.overhead === undefined ? "not measured" : "reported"} |`);
  const discarded = scenarios.reduce((sum, row) => sum + (row.discardedReps?.length ?? 0), 0);
  lines.push("");
  if (result.fairness) {
    lines.push(result.fairness.matches
      ? "The peers' ext_proc filter and cluster settings equal those of detour's generated sidecar config (checked in this run)."
      : `**The peers' ext_proc settings differ from detour's generated config:** ${result.fairness.differences.join("; ")}.`);
  }
  lines.push(`Other load = CPUs busy with anything but this benchmark during the repetitions (0 on a quiet machine). ${discarded ? `${discarded} disturbed repetition(s) were run again; they are listed under discardedReps in the JSON.` : "No repetition was run again."}`);
  return lines.join("\n");
}
