/*
 * What `detour kubernetes` (and the Helm chart, for the same values) can be told about the
 * cluster, with the defaults in one place.
 */

/** `istio`: VirtualServices, DestinationRules and EnvoyFilters; `gamma`: Gateway API HTTPRoutes on the Services. */
export type KubernetesMode = "istio" | "gamma";
export const KUBERNETES_MODES: readonly KubernetesMode[] = ["istio", "gamma"];

export interface KubernetesOptions {
  /** Namespace of the topology's services and of every object detour renders for them. */
  readonly namespace: string;
  /** The detour-ext-proc server image. */
  readonly image: string;
  readonly mode: KubernetesMode;
  /** Pod label holding a workload's service name (Istio's convention: `app`). */
  readonly appLabel: string;
  /** Pod label holding a workload's version (Istio's convention: `version`). */
  readonly versionLabel: string;
  /** Server replicas. */
  readonly replicas: number;
  /** Kubernetes cluster domain, for the services' fully qualified names. */
  readonly clusterDomain: string;
  /** Port the services are called on (GAMMA backendRefs and per-version Services). */
  readonly servicePort: number;
  /** Container port behind `servicePort` (number or port name); default the same number. */
  readonly targetPort: number | string | undefined;
  /** Namespace and labels of the Istio ingress gateway that gets the edge role. */
  readonly gatewayNamespace: string;
  readonly gatewaySelector: Readonly<Record<string, string>>;
  /** The Istio Gateway (`namespace/name`) whose hosts `gatewayHosts` route to the edge service's versions. */
  readonly gateway: string;
  /** Hosts of `gateway` served by the edge service; with none, detour renders no gateway routes. */
  readonly gatewayHosts: readonly string[];
  /** Secret holding the token verification keys named by edge.tokens.keys. */
  readonly tokenKeysSecret: string;
  /** In `gamma` mode, also render the Istio EnvoyFilters (sidecars with GAMMA routes). */
  readonly envoyFilters: boolean;
  /** Services whose routing objects (VirtualService/DestinationRule/HTTPRoute) detour leaves out: their owners merge detour's routes. */
  readonly skipRoutes: readonly string[];
  /** ext_proc per-message timeout in the EnvoyFilters. */
  readonly messageTimeoutMs: number | undefined;
}

/** The server image `detour kubernetes` names unless told otherwise (docs/kubernetes.md says how to build and push it). */
export const DEFAULT_IMAGE = "detour-ext-proc:0.1.0";

/** Two replicas: one can be drained or rescheduled while the other answers. */
export const DEFAULT_REPLICAS = 2;

export const DEFAULT_KUBERNETES_OPTIONS: KubernetesOptions = {
  namespace: "default",
  image: DEFAULT_IMAGE,
  mode: "istio",
  appLabel: "app",
  versionLabel: "version",
  replicas: DEFAULT_REPLICAS,
  clusterDomain: "cluster.local",
  servicePort: 80,
  targetPort: undefined,
  gatewayNamespace: "istio-system",
  gatewaySelector: { istio: "ingressgateway" },
  gateway: "istio-system/ingressgateway",
  gatewayHosts: [],
  tokenKeysSecret: "detour-token-keys",
  envoyFilters: false,
  skipRoutes: [],
  messageTimeoutMs: undefined,
};

/** The options with every unset field at its default. */
export function kubernetesOptions(options: Partial<KubernetesOptions> = {}): KubernetesOptions {
  const merged = { ...DEFAULT_KUBERNETES_OPTIONS };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  return merged;
}
