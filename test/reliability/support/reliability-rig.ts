import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { EXT_PROC_CLUSTER, GRACEFUL_CLOSE_RUNTIME_KEY, envoyBootstrapFromTopology } from "@detour/cli";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import type { DetourConfig } from "@detour/ext-proc";
import { startTopologyUpstreams, type Upstreams } from "../../support/detour-rig.js";
import { envoyBin } from "../../support/envoy.js";
import { trackChild } from "../../support/child-sweep.js";
import { ManagedExtProc } from "./managed-ext-proc.js";
import { freePort } from "../../support/free-port.js";

export interface RigOptions {
  /** ext_proc server processes behind Envoy's ext_proc cluster (2 for rolling restarts). */
  readonly servers?: number;
  /**
   * The generated config's HTTP/2 stream-reset mitigations: graceful close runtime flag and
   * max_requests_per_connection on the ext_proc cluster ("generated", the default).
   * "graceful-close-only" drops max_requests_per_connection (one connection carries everything);
   * "none" drops both: the control run that shows what they prevent.
   */
  readonly mitigations?: "generated" | "graceful-close-only" | "none";
  /** Edits to the reference topology before anything starts. */
  readonly configure?: (config: DetourConfig) => DetourConfig;
  /** Changes to the generated Envoy bootstrap (plain object) before Envoy starts. */
  readonly envoyBootstrap?: (bootstrap: Record<string, any>) => void;
  /** Envoy's log level and a tap on its log lines (for investigating a failure). */
  readonly envoyLog?: { level: "trace" | "debug" | "info" | "warning"; onLine: (line: string) => void };
  /** At least "info": the harness waits for the server's "listening" line. */
  readonly serverLogLevel?: "info" | "debug";
}

export interface Rig {
  readonly config: DetourConfig;
  readonly servers: readonly ManagedExtProc[];
  readonly envoy: EnvoyProcess;
  readonly upstreams: Upstreams;
  /** The Envoy bootstrap Envoy runs (plain object), for reading its routes. */
  readonly bootstrap: Record<string, any>;
  readonly dir: string;
  /** Port of a workload's sidecar listener, e.g. "frontend/v1". */
  listenerPort(workload: string): number;
  /** Drops the upstreams' recorded hits (long runs would otherwise keep every request). */
  clearHits(): void;
  /** Envoy's stats whose names start with one of `prefixes`. */
  envoyStats(...prefixes: string[]): Promise<Map<string, number>>;
  /** Crashes of every server so far, plus 1 if Envoy exited. */
  crashes(): { count: number; notes: string[] };
  envoyExited(): boolean;
  close(): Promise<void>;
}

/**
 * Upstreams for every version of the reference topology, N ext_proc server binaries on fixed
 * loopback ports, and one real Envoy (one worker) whose ext_proc cluster lists them all.
 * Whatever fails half-way is torn down before the error propagates.
 */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "detour-reliability-"));
  const cleanup: (() => Promise<void>)[] = [];
  const servers: ManagedExtProc[] = [];
  let envoy: EnvoyProcess | undefined;
  let envoyGone = false;
  try {
    const upstreams = await startTopologyUpstreams();
    cleanup.push(() => upstreams.close());
    const base = options.configure?.(upstreams.config) ?? upstreams.config;
    const count = options.servers ?? 1;
    for (let index = 0; index < count; index++) {
      const port = await freePort();
      const server = new ManagedExtProc(`ext-proc-${index + 1}`, join(dir, `detour-${index + 1}.yaml`), port);
      server.writeConfig({
        ...base,
        server: { ...base.server, listen: `127.0.0.1:${port}`, metrics: "127.0.0.1:0", logLevel: options.serverLogLevel ?? "info" },
      });
      servers.push(server);
      cleanup.push(() => server.close());
    }
    await Promise.all(servers.map((server) => server.start()));

    const bootstrap = envoyBootstrapFromTopology(base, { extProcAddress: `127.0.0.1:${servers[0]!.grpcPort}` }) as Record<string, any>;
    const cluster = (bootstrap.static_resources.clusters as Record<string, any>[]).find((c) => c.name === EXT_PROC_CLUSTER)!;
    const endpoints = cluster.load_assignment.endpoints[0].lb_endpoints as unknown[];
    for (const server of servers.slice(1)) {
      endpoints.push({ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: server.grpcPort } } } });
    }
    const mitigations = options.mitigations ?? "generated";
    if (mitigations === "none") delete bootstrap.layered_runtime.layers[0].static_layer[GRACEFUL_CLOSE_RUNTIME_KEY];
    if (mitigations !== "generated") {
      const protocolOptions = cluster.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
      if (protocolOptions.common_http_protocol_options?.max_requests_per_connection === undefined) {
        throw new Error("the generated ext_proc cluster has no max_requests_per_connection any more: update the reliability rig");
      }
      delete protocolOptions.common_http_protocol_options;
    }
    options.envoyBootstrap?.(bootstrap);
    envoy = await startEnvoy({
      envoyBin: await envoyBin(),
      config: stringify(bootstrap, { lineWidth: 0, aliasDuplicateObjects: false }),
      concurrency: 1,
      readyTimeoutMs: 60_000,
      ...(options.envoyLog === undefined
        ? {}
        : { logLevel: options.envoyLog.level, onLog: (chunk: string) => chunk.split("\n").forEach((line) => line !== "" && options.envoyLog!.onLine(line)) }),
    });
    const started = envoy;
    const untrack = trackChild(started.pid);
    void started.exited.then(() => {
      envoyGone = true;
      untrack();
    });
    cleanup.push(() => started.stop());

    const rig: Rig = {
      config: base,
      servers,
      envoy: started,
      upstreams,
      bootstrap,
      dir,
      listenerPort: (workload) => started.listenerPort(`outbound:${workload}`),
      clearHits() {
        for (const upstream of upstreams.byCluster.values()) upstream.hits.length = 0;
      },
      async envoyStats(...prefixes) {
        const all = await started.stats();
        return new Map([...all].filter(([name]) => prefixes.some((prefix) => name.startsWith(prefix))));
      },
      crashes() {
        const notes = servers.flatMap((server) => server.crashes.notes);
        let count = servers.reduce((sum, server) => sum + server.crashes.count, 0);
        if (envoyGone) {
          count++;
          notes.push(`envoy exited: ${started.log().slice(-2000)}`);
        }
        return { count, notes };
      },
      envoyExited: () => envoyGone,
      async close() {
        await runCleanup(cleanup);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return rig;
  } catch (error) {
    await runCleanup(cleanup);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function runCleanup(steps: (() => Promise<void>)[]): Promise<void> {
  // Reverse order: Envoy first, then the servers, then the upstreams. Every step runs even if one fails.
  for (const step of steps.reverse().splice(0)) {
    await step().catch(() => undefined);
  }
}
