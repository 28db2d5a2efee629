import { fileURLToPath } from "node:url";
import { envoyConfigFromTopology, outboundStatPrefix } from "@detour/cli";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import { loadConfigFile, type DetourConfig } from "@detour/ext-proc";
import { envoyBin } from "./envoy.js";
import { startUpstream, type Upstream } from "./upstream.js";

/** envoy/topology.yaml: the reference topology the e2e tests run. */
export const REFERENCE_TOPOLOGY = fileURLToPath(new URL("../../envoy/topology.yaml", import.meta.url));

export interface Upstreams {
  /** The topology with every endpoint pointing at a running upstream, server on free ports. */
  readonly config: DetourConfig;
  readonly byCluster: ReadonlyMap<string, Upstream>;
  close(): Promise<void>;
}

/**
 * Starts one small HTTP upstream per service version of a topology (each answers naming its
 * service and version) and returns the topology rewritten to their ports, with the ext_proc
 * server's own addresses on port 0.
 */
export async function startTopologyUpstreams(topologyPath = REFERENCE_TOPOLOGY): Promise<Upstreams> {
  const topology = loadConfigFile(topologyPath);
  const byCluster = new Map<string, Upstream>();
  const services: DetourConfig["services"] = {};
  for (const [service, spec] of Object.entries(topology.services)) {
    const versions: DetourConfig["services"][string]["versions"] = {};
    for (const version of Object.keys(spec.versions)) {
      const upstream = await startUpstream(service, version);
      byCluster.set(`${service}@${version}`, upstream);
      versions[version] = { endpoint: `127.0.0.1:${upstream.port}` };
    }
    services[service] = { ...spec, versions };
  }
  return {
    config: { ...topology, services, server: { ...topology.server, listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "warn" } },
    byCluster,
    close: async () => {
      await Promise.all([...byCluster.values()].map((upstream) => upstream.close()));
    },
  };
}

/** One real Envoy with an outbound listener per workload, pointed at the ext_proc server on `extProcPort`. */
export async function startSidecars(config: DetourConfig, extProcPort: number): Promise<EnvoyProcess> {
  return startEnvoy({
    envoyBin: await envoyBin(),
    config: envoyConfigFromTopology(config, { extProcAddress: `127.0.0.1:${extProcPort}` }),
    readyTimeoutMs: 60_000,
  });
}

/** Envoy's count of ext_proc streams a workload's listener opened (the skip path opens none). */
export async function extProcStreamsStarted(envoy: EnvoyProcess, workload: string): Promise<number> {
  return (await envoy.stats()).get(`http.${outboundStatPrefix(workload)}.ext_proc.streams_started`) ?? 0;
}
