import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envoyBootstrapFromTopology, EXT_PROC_CLUSTER } from "@detour/cli";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import { parseConfig, type DetourConfigInput } from "@detour/ext-proc";
import { stringify } from "yaml";
import { envoyBin } from "../../support/envoy.js";
import { startExtProcProcess, type ExtProcProcess } from "../../support/ext-proc-process.js";
import { sendThroughSidecar, type SidecarResponse } from "../../support/sidecar-request.js";
import { startUpstream, type Upstream } from "../../support/upstream.js";
import { waitFor } from "../../support/wait-for.js";

/** The workload whose sidecar the tests send through. */
export const CALLER = "frontend/v1";

export interface DiscoveryRigOptions {
  /** Versions Envoy can route to, per service (as Istio would have them from detour's routing objects). */
  readonly routable: Readonly<Record<string, readonly string[]>>;
  /** The server config: everything but `server`; its `kubernetes.kubeconfig` points at the API server. */
  readonly serverConfig: DetourConfigInput;
  /** Server processes (replicas) started with the same config. Default 1. */
  readonly replicas?: number;
}

export interface DiscoveryRig {
  readonly replicas: ExtProcProcess[];
  readonly envoy: EnvoyProcess;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly configPath: string;
  /** One request through the caller's sidecar to `service` (Host `<service>.<namespace>.svc.cluster.local`). */
  send(service: string, headers?: Record<string, string>): Promise<SidecarResponse>;
  /** The version that served a request for `service` carrying `x-detour` (undefined: answered locally, e.g. 503). */
  routedVersion(service: string, override: string): Promise<string | undefined>;
  /** Starts one more replica with the same config (after one was killed). */
  startReplica(): Promise<ExtProcProcess>;
  close(): Promise<void>;
}

/**
 * The real data path around detour's Kubernetes discovery: server process(es) running
 * `detour-ext-proc` with a `kubernetes:` section (the API server through a kubeconfig), a real
 * Envoy sidecar for the caller whose ext_proc cluster lists every replica (as a Service would),
 * and one small HTTP upstream per routable version. Envoy's routes match x-detour-route per
 * version (what Istio makes of detour's VirtualService); which version a request names is
 * decided by the server from what it watches.
 */
export async function startDiscoveryRig(options: DiscoveryRigOptions): Promise<DiscoveryRig> {
  const dir = mkdtempSync(join(tmpdir(), "detour-discovery-"));
  const upstreams = new Map<string, Upstream>();
  const replicas: ExtProcProcess[] = [];
  let envoy: EnvoyProcess | undefined;
  const configPath = join(dir, "detour.yaml");
  const namespace = options.serverConfig.kubernetes?.namespaces[0] ?? "default";
  try {
    const services: Record<string, { baseline: string; versions: Record<string, { endpoint: string }> }> = {};
    const all = { ...options.routable, [CALLER.split("/")[0]!]: [CALLER.split("/")[1]!] };
    for (const [service, versions] of Object.entries(all)) {
      services[service] = { baseline: versions[0]!, versions: {} };
      for (const version of versions) {
        const upstream = await startUpstream(service, version);
        upstreams.set(`${service}@${version}`, upstream);
        services[service]!.versions[version] = { endpoint: `127.0.0.1:${upstream.port}` };
      }
    }
    writeFileSync(configPath, stringify({ ...options.serverConfig, server: { listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "info", shutdownGraceMs: 1000 } }));
    for (let index = 0; index < (options.replicas ?? 1); index++) replicas.push(await startExtProcProcess(configPath));

    const envoyTopology = parseConfig({ services, workloads: { [CALLER]: {} } });
    const bootstrap = envoyBootstrapFromTopology(envoyTopology, { workloads: [CALLER], messageTimeoutMs: 2_000 }) as { static_resources: { clusters: { name: string; load_assignment: unknown }[] } };
    const extProc = bootstrap.static_resources.clusters.find((cluster) => cluster.name === EXT_PROC_CLUSTER)!;
    extProc.load_assignment = {
      cluster_name: EXT_PROC_CLUSTER,
      endpoints: [{ lb_endpoints: replicas.map((replica) => ({ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: replica.grpcPort } } } })) }],
    };
    envoy = await startEnvoy({ envoyBin: await envoyBin(), config: stringify(bootstrap, { lineWidth: 0, aliasDuplicateObjects: false }), readyTimeoutMs: 60_000 });
    const port = envoy.listenerPort(`outbound:${CALLER}`);
    const send = (service: string, headers: Record<string, string> = {}) => sendThroughSidecar(port, `${service}.${namespace}.svc.cluster.local`, { headers });
    const startedEnvoy = envoy;
    return {
      replicas,
      envoy: startedEnvoy,
      upstreams,
      configPath,
      send,
      async routedVersion(service, override) {
        const response = await send(service, { "x-detour": override });
        return response.status === 200 ? response.upstream?.version : undefined;
      },
      async startReplica() {
        const replica = await startExtProcProcess(configPath);
        replicas.push(replica);
        return replica;
      },
      async close() {
        await startedEnvoy.stop();
        for (const replica of replicas) {
          replica.signal("SIGTERM");
          await Promise.race([replica.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
          await replica.kill();
        }
        await Promise.all([...upstreams.values()].map((upstream) => upstream.close()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await envoy?.stop();
    for (const replica of replicas) await replica.kill();
    await Promise.all([...upstreams.values()].map((upstream) => upstream.close()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Waits until the replica's /readyz says ready (its first list from the API server arrived). */
export async function waitUntilReady(replica: ExtProcProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${replica.metricsPort}/readyz`)).status === 200, { what: "the server to be ready (synced with the API server)", timeoutMs });
}

/** GET /status of a replica. */
export async function topologyOf(replica: ExtProcProcess): Promise<TopologyJson> {
  return (await (await fetch(`http://127.0.0.1:${replica.metricsPort}/status`)).json()) as TopologyJson;
}

export interface TopologyJson {
  source: string;
  kubernetes?: { synced: boolean; stale: boolean; leader: boolean; identity: string };
  services: { name: string; origin: string; namespace?: string; baseline: string; miss: string; versions: { name: string; origin: string; routable: boolean; readyPods?: number; expiresAt?: string; expired?: boolean; requested: number; applied: number }[] }[];
  problems: { code: string; message: string }[];
  problemCount: number;
}

/** Milliseconds (performance.now) until `check` holds, polling every `intervalMs`; throws after `timeoutMs`. */
export async function millisUntil(check: () => Promise<boolean>, from: number, options: { timeoutMs?: number; intervalMs?: number; what: string }): Promise<number> {
  const deadline = from + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (await check()) return performance.now() - from;
    if (performance.now() > deadline) throw new Error(`timed out after ${options.timeoutMs ?? 10_000} ms waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5));
  }
}
