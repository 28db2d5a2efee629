#!/usr/bin/env node
// Where a server's CPU went, from V8 CPU profiles (`node --cpu-prof`, or bench/server-cpu.mjs
// --cpu-prof DIR): self time grouped by the code it ran in (node:http2, grpc-js, detour's own
// code, GC, …) and the functions with the most self time. Idle time is left out, so the shares
// are shares of busy time, and so is startup: samples count from the first one taken inside
// detour's Process stream loop (packages/ext-proc/dist/service/), so module loading and config
// parsing do not dilute the request path. Several profiles are added together.
//   usage: node bench/cpu-profile-summary.mjs [--top N] FILE.cpuprofile...
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { wholeNumberOption } from "./harness/cli-options.mjs";

/** First matching group wins; the order matters (detour's dist before node_modules, etc.). */
const GROUPS = [
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["idle", (f) => f.functionName === "(idle)"],
  ["native, unattributed (program)", (f) => f.functionName === "(program)" || f.functionName === "(root)"],
  ["detour", (f) => /\/packages\/(core|ext-proc)\/dist\//.test(f.url) || f.url.includes("node_modules/@detour/")],
  ["grpc-js", (f) => f.url.includes("/@grpc/grpc-js/")],
  ["protobuf-es", (f) => f.url.includes("/@bufbuild/")],
  ["pino, prom-client", (f) => /\/(pino|prom-client|sonic-boom|thread-stream)\//.test(f.url)],
  ["node:http2", (f) => /internal\/http2\//.test(f.url)],
  ["node streams", (f) => /internal\/streams\//.test(f.url)],
  ["node events, timers, task queues", (f) => /^node:(events|internal\/(timers|process\/task_queues|async_hooks|event_target))/.test(f.url)],
  ["other node internals", (f) => f.url.startsWith("node:") || f.url === "" ],
  ["other", () => true],
];

function groupOf(frame) {
  return GROUPS.find(([, test]) => test(frame))[0];
}

const REQUEST_PATH = /\/packages\/ext-proc\/dist\/service\//;

/** Index of the first sample whose stack runs the stream loop (0 if none does). */
function firstRequestSample(profile) {
  const parent = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const onPath = new Map();
  const inRequest = (id) => {
    if (onPath.has(id)) return onPath.get(id);
    const node = byId.get(id);
    const result = REQUEST_PATH.test(node.callFrame.url) || (parent.has(id) && inRequest(parent.get(id)));
    onPath.set(id, result);
    return result;
  };
  const index = (profile.samples ?? []).findIndex((id) => inRequest(id));
  return Math.max(0, index);
}

/** Self microseconds per profile node, from the samples (startup left out) and their time deltas. */
function selfTimes(profile) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = firstRequestSample(profile); i < samples.length; i++) {
    // Each delta is the time before sample i; attribute the following interval to sample i.
    const dt = timeDeltas[i + 1] ?? 0;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  return self;
}

function main() {
  const { values, positionals } = parseArgs({ options: { top: { type: "string", default: "25" } }, allowPositionals: true });
  if (positionals.length === 0) {
    console.error("usage: node bench/cpu-profile-summary.mjs [--top N] FILE.cpuprofile...");
    process.exit(2);
  }
  let top;
  try {
    top = wholeNumberOption(values, "top");
  } catch (error) {
    console.error(`cpu-profile-summary: ${error.message}`);
    process.exit(2);
  }
  const groups = new Map();
  const functions = new Map();
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, "utf8"));
    const self = selfTimes(profile);
    for (const node of profile.nodes) {
      const us = self.get(node.id) ?? 0;
      if (us === 0) continue;
      const frame = node.callFrame;
      const group = groupOf(frame);
      groups.set(group, (groups.get(group) ?? 0) + us);
      if (group === "idle") continue;
      const where = frame.url ? `${frame.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/packages\//, "packages/")}:${frame.lineNumber + 1}` : "";
      const key = `${frame.functionName || "(anonymous)"} ${where}`.trim();
      const entry = functions.get(key) ?? { us: 0, group };
      entry.us += us;
      functions.set(key, entry);
    }
  }
  const busy = [...groups].filter(([group]) => group !== "idle").reduce((sum, [, us]) => sum + us, 0);
  const pct = (us) => `${((us / busy) * 100).toFixed(1)} %`;
  console.log(`busy ${(busy / 1e6).toFixed(2)} s in ${positionals.length} profile(s), idle ${((groups.get("idle") ?? 0) / 1e6).toFixed(2)} s\n`);
  console.log("| group | share of busy time |\n|---|---:|");
  for (const [group, us] of [...groups].filter(([g]) => g !== "idle").sort((a, b) => b[1] - a[1])) console.log(`| ${group} | ${pct(us)} |`);
  console.log(`\n| function (self time) | group | share |\n|---|---|---:|`);
  for (const [key, { us, group }] of [...functions].sort((a, b) => b[1].us - a[1].us).slice(0, top)) console.log(`| \`${key}\` | ${group} | ${pct(us)} |`);
}

main();
