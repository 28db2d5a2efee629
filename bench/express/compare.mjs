// Developer tool for the Express overhead work (not part of `npm run bench`): round after round,
// runs each variant of hello-world.mjs side by side with the first one (the baseline), as
// `npm run bench` does: both new processes on one CPU, each under its own wrk at the same time.
// Prints each one's median app CPU µs per request and the median per-round ratio to the baseline.
// A variant may be listed twice (plain,plain) to see the method's own spread.
//   flock /tmp/detour-bench.lock node bench/express/compare.mjs [--node BIN] [--reps N] [--seconds S]
//     [--variants plain,mw,setup,full] [--no-override] [--before DIR] [--inject N]
// --inject N: no wrk; each variant process pushes N mock requests per batch through its
// http.Server (hello-world.mjs --inject), rounds rotated; prints the lowest batch CPU µs/req
// per variant (the mock adds a constant ~150 µs/req; compare differences in µs).
// Variants: plain (no detour), mw (app.use(detour()) only), setup (setupDetour({ outbound:
// "opentelemetry" }) only), full (setup + app.use(detour())), lean (full with
// instrumentation-http's incoming spans disabled), light (the light install: setupDetour({ outbound:
// "light" }) + app.use(detour())), lightSetup (the light setupDetour() alone). With --before DIR, a variant named b-<variant>
// runs DIR/bench/express/hello-world.mjs: a copy of the tree with another build of the packages.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { wholeNumberOption } from "../harness/cli-options.mjs";
import { pairRound } from "../harness/express-overhead.mjs";
import { median } from "../harness/statistics.mjs";

const { values } = parseArgs({
  options: {
    node: { type: "string", default: process.execPath },
    reps: { type: "string", default: "8" },
    seconds: { type: "string", default: "4" },
    variants: { type: "string", default: "plain,mw,setup,full" },
    "no-override": { type: "boolean", default: false },
    before: { type: "string" },
    inject: { type: "string" },
  },
});
const reps = wholeNumberOption(values, "reps");
const seconds = wholeNumberOption(values, "seconds");
const APP = fileURLToPath(new URL("./hello-world.mjs", import.meta.url));
const FLAGS = {
  plain: [],
  mw: ["--middleware"],
  setup: ["--setup"],
  full: ["--setup", "--middleware"],
  lean: ["--setup", "--no-incoming-spans", "--middleware"],
  light: ["--light", "--middleware"],
  lightSetup: ["--light"],
};
const HEADERS = values["no-override"]
  ? { Accept: "text/plain" }
  : { "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2", Accept: "text/plain" };
const wrk = { wrkBin: "wrk", connections: 32, threads: 1, cpus: "0" };

const specs = values.variants.split(",").map((name) => {
  const flags = FLAGS[name.startsWith("b-") ? name.slice(2) : name];
  if (flags === undefined) throw new Error(`compare.mjs: unknown variant "${name}" (known: ${Object.keys(FLAGS).join(", ")}, each optionally b-<variant> with --before)`);
  if (name.startsWith("b-") && values.before === undefined) throw new Error(`compare.mjs: ${name} needs --before DIR`);
  return { name, file: name.startsWith("b-") ? `${values.before}/bench/express/hello-world.mjs` : APP, args: flags };
});
if (specs.length < 2) throw new Error("compare.mjs: --variants needs a baseline and at least one more variant");
if (values.inject !== undefined) {
  const { runToEnd } = await import("../harness/child-processes.mjs");
  const results = new Map(specs.map((spec) => [spec.name, []]));
  for (let i = 0; i < reps; i++) {
    for (const spec of specs.map((_, j) => specs[(i + j) % specs.length])) {
      const extra = values["no-override"] ? ["--no-override"] : [];
      const { code, output } = await runToEnd(spec.name, "taskset", ["-c", "1", values.node, spec.file, ...spec.args, ...extra, "--inject", values.inject]);
      const match = /^inject (\[.*\])$/m.exec(output);
      if (code !== 0 || match === null) throw new Error(`${spec.name}: ${output.slice(-1000)}`);
      results.get(spec.name).push(...JSON.parse(match[1]));
    }
  }
  const base = Math.min(...results.get(specs[0].name));
  for (const [name, list] of results) {
    const low = Math.min(...list);
    console.log(`${name.padEnd(12)} min ${low.toFixed(1).padStart(6)} µs/req (${(low - base).toFixed(1).padStart(6)} vs ${specs[0].name})  median ${median(list).toFixed(1)}`);
  }
  process.exit(0);
}
const [base, ...others] = specs.map((spec) => ({ ...spec, node: values.node, ratios: [], us: [] }));
for (let i = 0; i < reps; i++) {
  for (const variant of others) {
    // Side by side with the baseline, both new processes (bench/harness/express-overhead.mjs says why).
    const round = await pairRound(variant, base, { cpus: "1", wrk, seconds, warmupSeconds: 2, headers: HEADERS, swap: i % 2 === 1 });
    for (const [name, rep] of [[base.name, round.base], [variant.name, round.measured]]) if (rep.errors !== 0) console.error(`${name}: ${rep.errors} errors`);
    variant.ratios.push(round.measured.appCpuMsPer1k / round.base.appCpuMsPer1k);
    variant.us.push(round.measured.appCpuMsPer1k);
    base.us.push(round.base.appCpuMsPer1k);
  }
}
console.log(`node ${(await import("node:child_process")).execFileSync(values.node, ["--version"]).toString().trim()}, ${reps} x ${seconds}s side by side with ${base.name}, headers: ${Object.keys(HEADERS).join(",")}`);
console.log(`${base.name.padEnd(14)} ${median(base.us).toFixed(1).padStart(6)} µs/req`);
for (const variant of others) {
  const ratio = median(variant.ratios);
  console.log(
    `${variant.name.padEnd(14)} ${median(variant.us).toFixed(1).padStart(6)} µs/req  ${((ratio - 1) * 100).toFixed(1).padStart(5)}% CPU per request vs ${base.name} ` +
      `(throughput ${((1 - 1 / ratio) * 100).toFixed(1)}% less)  rounds ${variant.ratios.map((r) => r.toFixed(3)).join(" ")}`,
  );
}
