import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { EXT_PROC_CLUSTER, GRACEFUL_CLOSE_RUNTIME_KEY } from "@detour/cli";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import type { DetourConfig } from "@detour/ext-proc";
import type { KubernetesObject } from "@detour/ext-proc/kubernetes";
import { envoyBin } from "../../support/envoy.js";
import { startExtProcProcess, type ExtProcProcess } from "../../support/ext-proc-process.js";
import { startUpstream, type Upstream } from "../../support/upstream.js";
import { applyEnvoyFilters, bootstrapOf, istioGatewayProxy, istioSidecarProxy, pointClusterAt, type IstioObject, type IstioPod, type ProxyConfig } from "./istio-proxy.mjs";

/** The port every service is called on in these clusters-without-a-cluster. */
export const SERVICE_PORT = 8080;
export const ROOT_NAMESPACE = "istio-system";

/** Listener and HCM stat prefix of a workload's sidecar in the combined Envoy. */
export function sidecarListener(workload: string): string {
  return `sidecar:${workload}`;
}
export function sidecarStatPrefix(workload: string): string {
  return `outbound_0.0.0.0_${SERVICE_PORT}_${workload.replace(/[^A-Za-z0-9]/g, "_")}`;
}
export const GATEWAY_LISTENER = "gateway";
export const GATEWAY_STAT_PREFIX = `outbound_0.0.0.0_${SERVICE_PORT}_gateway`;

export interface IstioRenderInput {
  readonly topology: DetourConfig;
  /** What `detour kubernetes` rendered for it. */
  readonly objects: readonly KubernetesObject[];
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Pod labels holding the service and version. */
  readonly appLabel: string;
  readonly versionLabel: string;
  /** Workloads (`service/version`) that get a sidecar listener. */
  readonly workloads: readonly string[];
  /** The ingress gateway: its pods' labels and the Gateway its VirtualServices name. */
  readonly gateway?: { readonly labels: Record<string, string>; readonly name: string; readonly virtualServices?: readonly IstioObject[] };
}

/** The Envoy bootstrap of the Istio-shaped proxies with detour's EnvoyFilters applied, before the ext_proc cluster is pointed anywhere. */
export function istioBootstrap(input: IstioRenderInput, pods: readonly IstioPod[]): Record<string, unknown> {
  const objects = input.objects as unknown as IstioObject[];
  const virtualServices = objects.filter((object) => object.kind === "VirtualService");
  const destinationRules = objects.filter((object) => object.kind === "DestinationRule");
  const hosts = Object.keys(input.topology.services).map((service) => `${service}.${input.namespace}.svc.${input.clusterDomain}`);
  const proxies: ProxyConfig[] = input.workloads.map((workload) => {
    const [service, version] = workload.split("/") as [string, string];
    const proxy = istioSidecarProxy({
      name: sidecarListener(workload),
      statPrefix: sidecarStatPrefix(workload),
      port: SERVICE_PORT,
      namespace: input.namespace,
      clusterDomain: input.clusterDomain,
      hosts,
      virtualServices,
      destinationRules,
      pods,
    });
    return applyEnvoyFilters(proxy, objects, {
      context: "SIDECAR_OUTBOUND",
      namespace: input.namespace,
      labels: { [input.appLabel]: service, [input.versionLabel]: version },
      rootNamespace: ROOT_NAMESPACE,
    });
  });
  if (input.gateway !== undefined) {
    const proxy = istioGatewayProxy({
      name: GATEWAY_LISTENER,
      statPrefix: GATEWAY_STAT_PREFIX,
      port: SERVICE_PORT,
      gateway: input.gateway.name,
      clusterDomain: input.clusterDomain,
      hosts,
      virtualServices: [...virtualServices, ...(input.gateway.virtualServices ?? [])],
      destinationRules,
      pods,
    });
    proxies.push(applyEnvoyFilters(proxy, objects, { context: "GATEWAY", namespace: ROOT_NAMESPACE, labels: input.gateway.labels, rootNamespace: ROOT_NAMESPACE }));
  }
  // The graceful-close flag reaches an Istio proxy through ProxyConfig.runtimeValues (docs/kubernetes.md).
  return bootstrapOf(proxies, { runtimeValues: { [GRACEFUL_CLOSE_RUNTIME_KEY]: "true" } });
}

/** The server config of the rendered ConfigMap, on loopback ports of the test's choosing (a pod binds 0.0.0.0:50051). */
export function configMapServerConfig(objects: readonly KubernetesObject[], rewrite: (config: DetourConfig) => DetourConfig = (config) => config): DetourConfig {
  const configMap = objects.find((object) => object.kind === "ConfigMap") as unknown as { data: Record<string, string> };
  const config = parse(configMap.data["detour.yaml"]!) as DetourConfig;
  return rewrite({ ...config, server: { ...config.server, listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "info" } });
}

export interface IstioStack {
  readonly envoy: EnvoyProcess;
  readonly server: ExtProcProcess;
  readonly bootstrap: Record<string, unknown>;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  stop(): Promise<void>;
}

/**
 * Upstream pods for every service version, the real server (a child process) reading the
 * rendered ConfigMap's config, and one real Envoy holding the Istio-shaped proxies.
 */
export async function startIstioStack(input: IstioRenderInput, serverConfig: DetourConfig): Promise<IstioStack> {
  const upstreams = new Map<string, Upstream>();
  const dir = mkdtempSync(join(tmpdir(), "detour-istio-"));
  let server: ExtProcProcess | undefined;
  let envoy: EnvoyProcess | undefined;
  const stop = async () => {
    await envoy?.stop();
    await server?.kill();
    await Promise.all([...upstreams.values()].map((upstream) => upstream.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pods: IstioPod[] = [];
    for (const [service, spec] of Object.entries(input.topology.services)) {
      for (const version of Object.keys(spec.versions)) {
        const upstream = await startUpstream(service, version);
        upstreams.set(`${service}@${version}`, upstream);
        pods.push({ fqdn: `${service}.${input.namespace}.svc.${input.clusterDomain}`, labels: { [input.appLabel]: service, [input.versionLabel]: version }, host: "127.0.0.1", port: upstream.port });
      }
    }
    const configFile = join(dir, "detour.yaml");
    writeFileSync(configFile, stringify(serverConfig));
    server = await startExtProcProcess(configFile);
    const bootstrap = pointClusterAt(istioBootstrap(input, pods), EXT_PROC_CLUSTER, "127.0.0.1", server.grpcPort);
    envoy = await startEnvoy({ envoyBin: await envoyBin(), config: stringify(bootstrap, { aliasDuplicateObjects: false }), readyTimeoutMs: 60_000 });
    return { envoy, server, bootstrap, upstreams, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
