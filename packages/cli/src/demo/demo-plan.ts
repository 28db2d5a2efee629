import type { DetourConfig } from "@detour/ext-proc";

/** One service instance the demo runs. */
export interface DemoInstance {
  readonly service: string;
  readonly version: string;
  /** Loopback port the instance listens on. */
  readonly port: number;
  /** Its workload key when it calls out through a sidecar listener (service/version). */
  readonly workload: string | undefined;
}

export interface DemoPlan {
  /** The topology with every address moved to this run's ports (what the server and Envoy get). */
  readonly topology: DetourConfig;
  readonly instances: readonly DemoInstance[];
  readonly extProc: { readonly port: number; readonly metricsPort: number };
  /** Envoy: each workload's sidecar listener, the admin port and the edge port. */
  readonly envoy: { readonly sidecarPorts: Readonly<Record<string, number>>; readonly adminPort: number; readonly edgePort: number };
}

/** How many free ports planDemo needs for a topology: instances, ext_proc (2), sidecars, admin and edge. */
export function portsNeeded(config: DetourConfig): number {
  const instances = Object.values(config.services).reduce((sum, service) => sum + Object.keys(service.versions).length, 0);
  return instances + 2 + Object.keys(config.workloads).length + 2;
}

/**
 * Lays the demo out on this run's ports, in this order: one instance per service version, the
 * ext_proc server's gRPC and metrics ports, a sidecar listener per workload, Envoy's admin and
 * the edge (`edgePort`, unless 0: then a picked one). Every port is decided before anything
 * starts, so no process asks the kernel for "any port" and takes one another still has to
 * bind. The topology's own endpoints are the reference layout (envoy/envoy.yaml); the demo
 * never binds them, so it runs beside anything else on the machine. Pure.
 */
export function planDemo(config: DetourConfig, ports: readonly number[], edgePort = 0): DemoPlan {
  if (ports.length < portsNeeded(config)) throw new Error(`planDemo needs ${portsNeeded(config)} ports, got ${ports.length}`);
  let next = 0;
  const take = () => ports[next++]!;
  const instances: DemoInstance[] = [];
  const services: DetourConfig["services"] = {};
  for (const [service, spec] of Object.entries(config.services)) {
    const versions: DetourConfig["services"][string]["versions"] = {};
    for (const version of Object.keys(spec.versions)) {
      const port = take();
      const workload = Object.hasOwn(config.workloads, `${service}/${version}`) ? `${service}/${version}` : undefined;
      instances.push({ service, version, port, workload });
      versions[version] = { endpoint: `127.0.0.1:${port}` };
    }
    services[service] = { ...spec, versions };
  }
  const extProc = { port: take(), metricsPort: take() };
  const sidecarPorts = Object.fromEntries(Object.keys(config.workloads).map((workload) => [workload, take()]));
  const adminPort = take();
  const pickedEdge = take();
  const envoy = { sidecarPorts, adminPort, edgePort: edgePort === 0 ? pickedEdge : edgePort };
  const topology: DetourConfig = {
    ...config,
    services,
    server: { ...config.server, listen: `127.0.0.1:${extProc.port}`, metrics: `127.0.0.1:${extProc.metricsPort}` },
  };
  return { topology, instances, extProc, envoy };
}
