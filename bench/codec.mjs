// Microbenchmark: @detour/core readCarriers + writeCarriers against OpenTelemetry's
// W3CBaggagePropagator extract + inject on the same request headers.
//
//   npx tsc -b packages/core && node bench/codec.mjs [--time-ms 600] [--rounds 7]
//
// Imports the BUILT package (packages/core/dist), so it measures what users run. Each header shape
// runs twice: "warm" repeats one override value (a developer's session: detour's parse cache
// hits), "cold" cycles through 4096 distinct values (the cache always misses, every read parses).
// detour and OTel rounds alternate and the ratio is the median of paired rounds, so a busy
// machine slows both sides of a pair alike. Speed is never asserted in tests (a timed assertion
// fails on a busy machine and passes on a fast one): this script prints numbers and ratios. The summary line format
// ("warm: geometric mean N.NNx, worst ...; cold: ...") is read by bench/harness/micro.mjs.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter } from "@opentelemetry/api";
import { W3CBaggagePropagator } from "@opentelemetry/core";
import { timingOptions, calibrateBatch, median, round } from "./harness/paired-rounds.mjs";

const dist = fileURLToPath(new URL("../packages/core/dist/index.js", import.meta.url));
if (!existsSync(dist)) {
  console.error("packages/core/dist is missing: run `npx tsc -b packages/core` first");
  process.exit(1);
}
const { readCarriers, writeCarriers } = await import(dist);

const { timeMs: TIME_MS, rounds: ROUNDS } = timingOptions(process.argv.slice(2), { timeMs: 600, rounds: 7 });

// Typical headers of a request as Node's IncomingMessage presents them (lower-case keys).
const base = {
  host: "pricing.internal:8080",
  "user-agent": "undici",
  accept: "application/json",
  "accept-encoding": "gzip, deflate",
  "x-request-id": "4bf92f3577b34da6a3ce929d0e0e4736",
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  "content-type": "application/json",
};
const others = "userId=alice,tenant=acme;ttl=60,isProduction=false,region=eu-west-1";

// Each shape is built for one override value; the "cold" run cycles through COLD_VALUES distinct
// values (more than @detour/core's parse cache holds), so every read parses from scratch.
const shapes = [
  {
    name: "x-detour only",
    build: (ovr) => ({ ...base, "x-detour": ovr }),
    note: "OTel ignores x-detour: its side does nothing",
  },
  { name: "baggage: detour member only", build: (ovr) => ({ ...base, baggage: `detour=${encodeURIComponent(ovr)}` }) },
  {
    name: "baggage: detour + 4 other members",
    build: (ovr) => ({ ...base, baggage: `${others},detour=${encodeURIComponent(ovr)}` }),
  },
  {
    name: "x-detour + baggage (4 others + detour)",
    build: (ovr) => ({ ...base, "x-detour": ovr, baggage: `detour=${encodeURIComponent(ovr)},${others}` }),
  },
  { name: "baggage: 4 other members, no override", build: () => ({ ...base, baggage: others }) },
];
const COLD_VALUES = 4096;
const overrideValue = (n) => `pricing=v2,cart=pr-7,*=sandbox-${n}`;

// Node's HTTP parser hands over flat strings made from socket bytes; template literals make rope
// (cons) strings, which V8 handles differently. Rebuild every value from bytes so both sides see
// what a server sees.
const flat = (value) => Buffer.from(value, "latin1").toString("latin1");
const flatHeaders = (headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [flat(k), flat(v)]));

const propagator = new W3CBaggagePropagator();
let sink = 0;

function detourOnce(headers) {
  const { set } = readCarriers(headers);
  const out = headers.baggage === undefined ? {} : { baggage: headers.baggage };
  writeCarriers(out, set);
  sink += out.baggage === undefined ? 1 : out.baggage.length;
}

function otelOnce(headers) {
  const ctx = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  const out = {};
  propagator.inject(ctx, out, defaultTextMapSetter);
  sink += out.baggage === undefined ? 1 : out.baggage.length;
}

let cursor = 0;
function runBatch(fn, variants, batch) {
  const n = variants.length;
  for (let i = 0; i < batch; i++) {
    fn(variants[cursor]);
    cursor = cursor + 1 === n ? 0 : cursor + 1;
  }
}

// detour and OTel rounds alternate, and the ratio is taken per pair of adjacent rounds, so a
// noisy neighbour or CPU frequency change slows both sides of a pair alike.
function measure(variants) {
  const detourRun = (batch) => runBatch(detourOnce, variants, batch);
  const otelRun = (batch) => runBatch(otelOnce, variants, batch);
  const detourBatch = calibrateBatch(detourRun, TIME_MS);
  const otelBatch = calibrateBatch(otelRun, TIME_MS);
  const detour = [];
  const otel = [];
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const d = round(detourRun, detourBatch, TIME_MS);
    const o = round(otelRun, otelBatch, TIME_MS);
    detour.push(d);
    otel.push(o);
    ratios.push(d / o);
  }
  return { detour: median(detour), otel: median(otel), ratio: median(ratios) };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(12);
console.log(`node ${process.version}, ${ROUNDS} rounds x ${TIME_MS} ms per case; ops/s = median round, ratio = median of paired rounds`);
const summary = [];
for (const mode of ["warm", "cold"]) {
  console.log(
    mode === "warm"
      ? "\nwarm: one override value repeated (a developer's session; detour's parse cache hits)"
      : `\ncold: ${COLD_VALUES} distinct override values in turn (detour's parse cache always misses)`,
  );
  console.log(`${"case".padEnd(42)} ${"detour ops/s".padStart(12)} ${"otel ops/s".padStart(12)}  ratio`);
  const ratios = [];
  for (const shape of shapes) {
    const count = mode === "warm" ? 1 : COLD_VALUES;
    const variants = Array.from({ length: count }, (_, n) => flatHeaders(shape.build(overrideValue(n))));
    // Same work on both sides before timing, so neither runs cold code.
    for (const headers of variants.slice(0, 64)) {
      detourOnce(headers);
      otelOnce(headers);
    }
    const { detour, otel, ratio } = measure(variants);
    if (shape.note === undefined) ratios.push(ratio);
    console.log(`${shape.name.padEnd(42)} ${fmt(detour)} ${fmt(otel)}  ${ratio.toFixed(2)}x${shape.note ? `  (${shape.note})` : ""}`);
  }
  const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  const min = Math.min(...ratios);
  summary.push(`${mode}: geometric mean ${geo.toFixed(2)}x, worst ${min.toFixed(2)}x`);
}
console.log(`\nratio detour/OTel over shapes where both do work (target >= 2x): ${summary.join("; ")}`);
if (sink === 0) console.log("unreachable"); // keeps the results observable to the optimizer
