#!/usr/bin/env node
import "./server/apply-v8-tiering.js";
import { parseArgs } from "node:util";
import { DetourError } from "@detour/core";
import { collectDefaultMetrics } from "prom-client";
import { isConfigError } from "./config/yaml-config-file.js";
import { missingNodeHeapFlags } from "./server/node-heap-flags.js";
import { runExtProcServer } from "./server/run-ext-proc-server.js";

const USAGE = `usage: detour-ext-proc --config detour.yaml

Envoy ext_proc server for detour per-request version routing.
  -c, --config FILE   the topology/config file (detour.yaml); reloaded on change or SIGHUP
  -h, --help          show this help
Signals: SIGHUP reloads the config, SIGTERM/SIGINT stop gracefully (exit 0).`;

async function main(): Promise<void> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (error) {
    process.stderr.write(`detour-ext-proc: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.config === undefined) {
    process.stderr.write(`detour-ext-proc: --config is required\n${USAGE}\n`);
    process.exit(2);
  }
  try {
    const running = await runExtProcServer(values.config);
    // Process metrics (process_resident_memory_bytes, nodejs_heap_size_used_bytes,
    // nodejs_eventloop_lag_seconds, ...) for alerting on leaks and a blocked event loop
    // (docs/operations.md). Here, not in the server: only the process owns them. The event-loop
    // delay is sampled every 100 ms, not prom-client's default 10 ms: the default wakes an idle
    // server 100 times a second on the core it shares with Envoy (measured: ~1,000 -> ~130
    // wakeups per 10 s idle), and the alert threshold is 100 ms of lag anyway.
    collectDefaultMetrics({ register: running.server.metrics.registry, eventLoopMonitoringPrecision: 100 });
    // V8 takes heap limits only at start-up (server/node-heap-flags.ts): say so when the
    // launcher left them out, because RSS under load is then ~60 MiB higher.
    const missing = missingNodeHeapFlags();
    if (missing.length > 0) {
      running.server.logger.info({ missing }, "started without the recommended node heap flags; expect higher memory use under load (docs/operations.md, Memory)");
    }
  } catch (error) {
    // The same line `detour` prints for a DetourError: `(code) message`. A config file that cannot
    // be used exits 2, as it does for every detour command; anything else that stops startup, 1.
    const message = error instanceof DetourError ? `(${error.code}) ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`detour-ext-proc: ${message}\n`);
    process.exit(isConfigError(error) ? 2 : 1);
  }
}

void main();
