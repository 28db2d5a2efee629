// Types of istio-proxy.mjs (plain JavaScript so bench/ can import it too).
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Envoy config trees are walked by path, like the JSON they are

export interface ProxyConfig {
  listeners: Json[];
  clusters: Json[];
}

/** A pod an Istio proxy would route to: its service host, labels and address. */
export interface IstioPod {
  fqdn: string;
  labels: Record<string, string>;
  host: string;
  port: number;
}

export interface IstioObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Json;
  [field: string]: unknown;
}

export interface ProxyIdentity {
  context: "SIDECAR_OUTBOUND" | "GATEWAY";
  namespace: string;
  labels: Record<string, string>;
  rootNamespace: string;
}

export function qualifiedHost(host: string, namespace: string, clusterDomain: string): string;
export function outboundCluster(port: number, subset: string | undefined, fqdn: string): string;
/** What both proxy shapes are built from: their listener, the mesh's services and the Istio objects that route them. */
export interface ProxyShapeOptions {
  name: string;
  statPrefix: string;
  listenPort?: number;
  port: number;
  clusterDomain: string;
  hosts: readonly string[];
  virtualServices: readonly IstioObject[];
  destinationRules: readonly IstioObject[];
  pods: readonly IstioPod[];
}

export function istioSidecarProxy(options: ProxyShapeOptions & { namespace: string }): ProxyConfig;
export function istioGatewayProxy(options: ProxyShapeOptions & { gateway: string }): ProxyConfig;
export function protoMerge(target: Json, patch: Json): Json;
export function applyEnvoyFilters(config: ProxyConfig, envoyFilters: readonly IstioObject[], proxy: ProxyIdentity): ProxyConfig;
export function bootstrapOf(proxies: readonly ProxyConfig[], options?: { runtimeValues?: Record<string, string | boolean> }): Json;
export function pointClusterAt(bootstrap: Json, name: string, host: string, port: number): Json;
