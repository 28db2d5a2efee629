// Developer tool for the Express overhead work (not part of `npm run bench`): starts several
// variants of hello-world.mjs at once and loads them with wrk in interleaved, rotated rounds, so
// a variant and its baseline see the same machine. Prints median rps and app CPU µs per request.
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
import { startChild } from "../harness/child-processes.mjs";
import { cpuSeconds } from "../harness/proc-sampler.mjs";
import { median } from "../harness/statistics.mjs";
import { runWrk } from "../harness/wrk-runner.mjs";

const { values } = parseArgs({
  options: {
    node: { type: "string", default: process.execPath },
    reps: { type: "string", default: "4" },
    seconds: { type: "string", default: "4" },
    variants: { type: "string", default: "plain,mw,setup,full" },
    "no-override": { type: "boolean", default: false },
    before: { type: "string" },
    inject: { type: "string" },
  },
});
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

const specs = values.variants.split(",").map((name) =>
  name.startsWith("b-") ? { name, file: `${values.before}/bench/express/hello-world.mjs`, args: FLAGS[name.slice(2)] } : { name, file: APP, args: FLAGS[name] },
);
if (values.inject !== undefined) {
  const { runToEnd } = await import("../harness/child-processes.mjs");
  const results = new Map(specs.map((spec) => [spec.name, []]));
  for (let i = 0; i < Number(values.reps); i++) {
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
const apps = [];
try {
  for (const spec of specs) {
    const proc = startChild(spec.name, values.node, [spec.file, ...spec.args], { cpus: "1", env: { NODE_ENV: "production" } });
    const match = await proc.waitFor(/^listening (\d+)$/m);
    apps.push({ ...spec, proc, url: `http://127.0.0.1:${match[1]}/hello`, reps: [] });
  }
  for (const app of apps) await runWrk({ ...wrk, seconds: 2, url: app.url, headers: HEADERS });
  const reps = Number(values.reps);
  for (let i = 0; i < reps; i++) {
    const order = apps.map((_, j) => apps[(i + j) % apps.length]);
    for (const app of order) {
      const before = cpuSeconds(app.proc.pid);
      const rep = await runWrk({ ...wrk, seconds: Number(values.seconds), url: app.url, headers: HEADERS });
      const cpu = cpuSeconds(app.proc.pid) - before;
      if (rep.errors !== 0) console.error(`${app.name}: ${rep.errors} errors`);
      app.reps.push({ rps: rep.rps, usPerReq: (cpu * 1e6) / rep.requests });
    }
  }
  const base = apps[0];
  const baseRps = median(base.reps.map((r) => r.rps));
  const baseUs = median(base.reps.map((r) => r.usPerReq));
  const baseMin = Math.min(...base.reps.map((r) => r.usPerReq));
  console.log(`node ${(await import("node:child_process")).execFileSync(values.node, ["--version"]).toString().trim()}, ${reps} x ${values.seconds}s, headers: ${Object.keys(HEADERS).join(",")}`);
  for (const app of apps) {
    const rps = median(app.reps.map((r) => r.rps));
    const us = median(app.reps.map((r) => r.usPerReq));
    console.log(
      `${app.name.padEnd(22)} ${rps.toFixed(0).padStart(7)} rps (${((1 - rps / baseRps) * 100).toFixed(1).padStart(5)}% less)  ` +
        `${us.toFixed(1).padStart(6)} µs/req (${((us / baseUs - 1) * 100).toFixed(1).padStart(5)}% more)  ` +
        `min ${Math.min(...app.reps.map((r) => r.usPerReq)).toFixed(1)} (${((Math.min(...app.reps.map((r) => r.usPerReq)) / baseMin - 1) * 100).toFixed(1)}% more)  reps ${app.reps.map((r) => r.usPerReq.toFixed(1)).join(" ")}`,
    );
  }
} finally {
  for (const app of apps) await app.proc.stop();
}
