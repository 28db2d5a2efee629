// The in-process benchmarks of issue 8 that need no Envoy: the codec against OpenTelemetry's
// W3CBaggagePropagator (bench/codec.mjs, owned by the core package) and the propagation
// overhead of @detour/express on a hello-world route.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runToEnd } from "./child-processes.mjs";
import { expressOverhead } from "./express-overhead.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CODEC_SCRIPT = `${ROOT}bench/codec.mjs`;

async function codec({ quick, cpus }) {
  if (!existsSync(CODEC_SCRIPT)) return { reason: "bench/codec.mjs not there" };
  const args = quick ? ["--time-ms", "200", "--rounds", "3"] : ["--time-ms", "600", "--rounds", "7"];
  // Pinned to one CPU like the system under test of the load scenarios.
  const { code, output } = await runToEnd("codec", process.execPath, [CODEC_SCRIPT, ...args], { cpus: cpus.sut, timeoutMs: 300_000 });
  if (code !== 0) return { reason: `bench/codec.mjs exited ${code}`, output: output.slice(-2000) };
  // codec.mjs prints its summary for people; both of its shapes are read: one overall
  // "geometric mean ratio ...: 2.9x", or per variant "warm: geometric mean 2.88x, ...; cold: ...".
  const variants = {};
  for (const match of output.matchAll(/(\w+): geometric mean ([\d.]+)x/g)) variants[match[1]] = Number(match[2]);
  const overall = /geometric mean ratio[^:]*:\s*([\d.]+)x/.exec(output);
  const means = overall ? [Number(overall[1])] : Object.values(variants);
  // The target is checked against the weakest variant reported.
  const geoMeanRatio = means.length ? Math.min(...means) : undefined;
  return {
    geoMeanRatio,
    variants,
    output: output.trim().split("\n"),
    ...(geoMeanRatio === undefined ? { reason: "bench/codec.mjs printed no geometric mean ratio" } : {}),
  };
}

export async function runMicro({ quick, tools, cpus, wrk, log, waitForQuiet, retries }) {
  log("microbenchmark: codec vs OTel W3CBaggagePropagator");
  await waitForQuiet();
  const codecResult = await codec({ quick, cpus });
  log("microbenchmark: @detour/express overhead");
  const express = await expressOverhead({ quick, tools, cpus, wrk, log, waitForQuiet, retries });
  return { codec: codecResult, express };
}
