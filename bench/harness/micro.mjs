// The in-process benchmarks that need no Envoy: the codec against OpenTelemetry's
// W3CBaggagePropagator (bench/codec.mjs, owned by the core package), the ext_proc server's wire
// reader against protobuf-es (bench/wire-reader.mjs), and the propagation overhead of
// @detour/express on a hello-world route.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runToEnd } from "./child-processes.mjs";
import { expressOverhead } from "./express-overhead.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CODEC_SCRIPT = `${ROOT}bench/codec.mjs`;
const WIRE_READER_SCRIPT = `${ROOT}bench/wire-reader.mjs`;

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

/** The ext_proc wire reader against BinaryReader and fromBinary (bench/wire-reader.mjs). */
async function wireReader({ quick, cpus }) {
  const args = quick ? ["--time-ms", "100", "--rounds", "5"] : ["--time-ms", "150", "--rounds", "25"];
  const { code, output } = await runToEnd("wire-reader", process.execPath, [WIRE_READER_SCRIPT, ...args], { cpus: cpus.sut, timeoutMs: 300_000 });
  if (code !== 0) return { reason: `bench/wire-reader.mjs exited ${code}`, output: output.slice(-2000) };
  const ratio = (name) => {
    const match = new RegExp(`hand-written vs ${name}: ([\\d.]+)x \\(geometric mean, worst ([\\d.]+)x\\)`).exec(output);
    return match ? { geoMean: Number(match[1]), worst: Number(match[2]) } : undefined;
  };
  const vsBinaryReader = ratio("BinaryReader");
  const vsFromBinary = ratio("fromBinary");
  return {
    vsBinaryReader,
    vsFromBinary,
    output: output.trim().split("\n"),
    ...(vsBinaryReader === undefined ? { reason: "bench/wire-reader.mjs printed no ratio" } : {}),
  };
}

export async function runMicro({ quick, tools, cpus, wrk, log, waitForQuiet, retries }) {
  log("microbenchmark: codec vs OTel W3CBaggagePropagator");
  await waitForQuiet();
  const codecResult = await codec({ quick, cpus });
  log("microbenchmark: ext_proc wire reader vs BinaryReader and fromBinary");
  await waitForQuiet();
  const wireReaderResult = await wireReader({ quick, cpus });
  log("microbenchmark: @detour/express overhead");
  const express = await expressOverhead({ quick, tools, cpus, wrk, log, waitForQuiet, retries });
  return { codec: codecResult, wireReader: wireReaderResult, express };
}
