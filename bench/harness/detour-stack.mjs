// Scenarios 2 and 3 run the REAL detour: the server binary packages/ext-proc/dist/bin.js with a
// detour.yaml, behind the sidecar config that detour's own generator writes
// (envoyBootstrapFromTopology in packages/cli). When either has not been built the scenarios
// are reported as "not available" with the reason, never as zero.
import { existsSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startChild } from "./child-processes.mjs";
import { startEnvoy } from "./envoy-runner.mjs";
import { compareExtProcSettings } from "./fairness.mjs";
import { makeTempDir, removeTempDir } from "./temp-dirs.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The calling workload of the benchmark's sidecar listener; it injects nothing (skip path on). */
export const BENCH_WORKLOAD = "frontend/v1";

/**
 * Loads detour's generator and config parser, or says why they are not available. `root` is the
 * checkout whose build is loaded (default this one; bench/server-cpu.mjs compares two builds).
 */
export async function loadDetour(root = ROOT) {
  const serverBin = join(root, "packages/ext-proc/dist/bin.js");
  const extProcIndex = join(root, "packages/ext-proc/dist/index.js");
  const cliIndex = join(root, "packages/cli/dist/index.js");
  const missing = [serverBin, extProcIndex, cliIndex].filter((path) => !existsSync(path));
  if (missing.length) return { available: false, reason: `not built: ${missing.map((p) => relative(root, p)).join(", ")} (run npm run build in ${root})` };
  try {
    const cli = await import(pathToFileURL(cliIndex).href);
    const extProc = await import(pathToFileURL(extProcIndex).href);
    if (typeof cli.envoyBootstrapFromTopology !== "function") return { available: false, reason: "packages/cli does not export envoyBootstrapFromTopology yet" };
    if (typeof extProc.parseConfig !== "function") return { available: false, reason: "packages/ext-proc does not export parseConfig yet" };
    return { available: true, cli, extProc, serverBin };
  } catch (error) {
    return { available: false, reason: `cannot load detour's built packages: ${error.message.split("\n")[0]}` };
  }
}

/** detour.yaml for the run's topology, upstream endpoints filled in. */
export function detourDocument(topology, endpoints) {
  const services = {};
  for (const [service, spec] of Object.entries(topology)) {
    services[service] = {
      baseline: spec.baseline,
      versions: Object.fromEntries(spec.versions.map((v) => {
        const { host, port } = endpoints[`${service}@${v}`];
        return [v, { endpoint: `${host}:${port}` }];
      })),
    };
  }
  return {
    services,
    workloads: { [BENCH_WORKLOAD]: {} },
    // Port 0: the server reports what it bound. Log level info is the default a user runs
    // (per-request logs are debug only).
    server: { listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "info" },
  };
}

/**
 * Starts detour's ext_proc server for the document and returns it with the bootstrap detour's
 * generator writes for that topology, pointed at the server's bound port. It runs on `nodeBin`
 * (default the harness's own Node) with the node heap flags every detour launcher uses
 * (EXT_PROC_NODE_FLAGS, docs/operations.md "Memory"); `extraNodeArgs` come after them.
 * `wrapper` is a command line that runs Node (valgrind, for bench/server-cpu.mjs --callgrind).
 */
export async function startDetourServer(detour, document, { cpus, nodeBin = process.execPath, nodeArgs = detour.extProc.EXT_PROC_NODE_FLAGS ?? [], extraNodeArgs = [], env, wrapper = [], readyTimeoutMs = 20_000 }) {
  const dir = makeTempDir("detour-bench-");
  const configPath = join(dir, "detour.yaml");
  // JSON is YAML: the server's loader reads it as is.
  writeFileSync(configPath, JSON.stringify(document, null, 2));
  const config = detour.extProc.parseConfig(document, configPath);
  const command = [...wrapper, nodeBin, ...nodeArgs, ...extraNodeArgs, detour.serverBin, "--config", configPath];
  const server = startChild("detour-ext-proc", command[0], command.slice(1), { cpus, env });
  let grpc;
  let metrics;
  try {
    const match = await server.waitFor(/^(\{.*"detour ext_proc server listening".*\})$/m, readyTimeoutMs);
    ({ grpc, metrics } = JSON.parse(match[1]));
  } catch (error) {
    await server.stop();
    removeTempDir(dir);
    throw error;
  }
  const bootstrap = detour.cli.envoyBootstrapFromTopology(config, {
    extProcAddress: grpc,
    workloads: [BENCH_WORKLOAD],
    listeners: { [BENCH_WORKLOAD]: 0 },
  });
  const listener = typeof detour.cli.outboundListenerName === "function" ? detour.cli.outboundListenerName(BENCH_WORKLOAD) : `outbound:${BENCH_WORKLOAD}`;
  return {
    server,
    grpc,
    metricsUrl: `http://${metrics}/metrics`,
    bootstrap,
    listener,
    async stop() {
      await server.stop();
      removeTempDir(dir);
    },
  };
}

/**
 * The detour stack of scenarios 2 and 3: the real server (on ctx.serverNode, default the
 * harness's Node) and Envoy with the generated sidecar config.
 */
export async function startDetourStack(ctx) {
  const detour = await startDetourServer(ctx.detour, detourDocument(ctx.topology, ctx.endpoints), { cpus: ctx.cpus.extProc, nodeBin: ctx.serverNode?.bin });
  let envoy;
  try {
    envoy = await startEnvoy("envoy-detour", { ...ctx.envoyOptions, bootstrap: detour.bootstrap });
  } catch (error) {
    await detour.stop();
    throw error;
  }
  ctx.fairness = compareExtProcSettings(detour.bootstrap, BENCH_WORKLOAD);
  return { envoy, listener: detour.listener, extProc: { name: "detour-ext-proc", proc: detour.server }, detour, runtime: ctx.serverNode?.runtime };
}
