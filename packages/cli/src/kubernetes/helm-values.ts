import { stringify } from "yaml";
import { z } from "zod";
import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER, ROUTE_HEADER, TOKEN_COOKIE, TOKEN_HEADER } from "@detour/core";
import { DEFAULT_SHUTDOWN_GRACE_MS } from "@detour/ext-proc";
import { EDGE_MARKER_HEADER, EDGE_MARKER_VALUE } from "@detour/ext-proc/envoy";
import { DISCOVERY_ENV, DISCOVERY_ROLE_NAME, discoveryRules, LEADER_ELECTION_ROLE_NAME, leaderElectionRules } from "@detour/ext-proc/kubernetes";
import { extProcCluster } from "../envoy-config/ext-proc-cluster.js";
import { extProcFilter } from "../envoy-config/ext-proc-filter.js";
import { DEFAULT_MESSAGE_TIMEOUT_MS } from "../envoy-config/envoy-names.js";
import { filterOnlyWhen, headerPredicate, queryParameterPredicate } from "../envoy-config/filter-matcher.js";
import { earlyHeaderRemoval } from "../envoy-config/http-filters.js";
import type { RoutingConflict } from "./existing-routing.js";
import { GRPC_PORT } from "./kubernetes-names.js";
import { DEFAULT_KUBERNETES_OPTIONS, KUBERNETES_MODES, type KubernetesOptions } from "./kubernetes-options.js";
import { SERVER_RESOURCES, SERVER_UID } from "./server-objects.js";

/*
 * The Helm chart (deploy/helm/detour) renders the same objects as `detour kubernetes` from the
 * same inputs. Its values are the command's options plus the server config text, and what the
 * chart needs of detour's Envoy settings comes from here, generated into the chart
 * (files/detour-settings.json), so a tuning value lives in one place. The chart's templates hold
 * only the structure; test/kubernetes-helm-chart.test.ts checks that `helm template` and
 * `detour kubernetes` agree object for object.
 */

/** Where the chart lives in the repository. */
export const HELM_CHART_DIR = "deploy/helm/detour";

const label = z.string().min(1);

/** The chart's values (values.schema.json is generated from this). */
export const helmValuesSchema = z.strictObject({
  namespace: z.string().describe("namespace of the topology's services and of detour's objects; empty: the release namespace"),
  image: z.string().min(1).describe("the detour-ext-proc server image"),
  mode: z.enum(KUBERNETES_MODES as [string, ...string[]]).describe("istio: VirtualService/DestinationRule/EnvoyFilter; gamma: Gateway API HTTPRoutes"),
  appLabel: label.describe("pod label naming a workload's service"),
  versionLabel: label.describe("pod label naming a workload's version"),
  replicas: z.int().min(1).max(100).describe("server replicas"),
  clusterDomain: z.string().min(1).describe("the cluster's DNS domain"),
  servicePort: z.int().min(1).max(65_535).describe("port the services are called on (gamma backendRefs, per-version Services)"),
  // Optional: Helm drops a null value before it checks the schema.
  targetPort: z.union([z.int().min(1).max(65_535), z.string().min(1), z.null()]).optional().describe("container port behind servicePort; null: the same number"),
  gatewayNamespace: z.string().min(1).describe("namespace of the Istio ingress gateway that gets the edge role"),
  gatewaySelector: z.record(z.string(), z.string()).describe("the ingress gateway pods' labels; empty: Istio's default gateway (istio: ingressgateway)"),
  gateway: z.string().min(1).describe("the Istio Gateway (namespace/name) whose gatewayHosts route to the edge service's versions"),
  gatewayHosts: z.array(z.string().min(1)).describe("hosts of gateway served by edge.service; empty: no gateway routes"),
  tokenKeysSecret: z.string().min(1).describe("Secret holding the files edge.tokens.keys names (by file name)"),
  envoyFilters: z.boolean().describe("gamma mode: also render the Istio EnvoyFilters"),
  skipRoutes: z.array(z.string()).describe("services whose routing objects detour leaves out (their owners merged detour's routes)"),
  leaveOut: z
    .array(z.strictObject({ service: z.string(), kind: z.enum(["VirtualService", "DestinationRule"]) }))
    .describe("single routing objects detour leaves out because someone else owns one for the host (detour kubernetes --existing --leave-existing)"),
  messageTimeoutMs: z.int().min(1).max(60_000).describe("ext_proc message timeout in the EnvoyFilters"),
  serverConfig: z.string().min(1).describe("the server config (detour.yaml as `detour kubernetes --helm-values` writes it); the routing objects are rendered from it"),
});

export type HelmValues = z.output<typeof helmValuesSchema>;

/** The chart's values for these options and server config text. */
export function helmValues(options: KubernetesOptions, serverConfigText: string, leaveOut: readonly RoutingConflict[] = []): HelmValues {
  return {
    namespace: options.namespace,
    image: options.image,
    mode: options.mode,
    appLabel: options.appLabel,
    versionLabel: options.versionLabel,
    replicas: options.replicas,
    clusterDomain: options.clusterDomain,
    servicePort: options.servicePort,
    targetPort: options.targetPort ?? null,
    gatewayNamespace: options.gatewayNamespace,
    gatewaySelector: { ...options.gatewaySelector },
    gateway: options.gateway,
    gatewayHosts: [...options.gatewayHosts],
    tokenKeysSecret: options.tokenKeysSecret,
    envoyFilters: options.envoyFilters,
    skipRoutes: [...options.skipRoutes],
    leaveOut: leaveOut.map(({ service, kind }) => ({ service, kind })),
    messageTimeoutMs: options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS,
    serverConfig: serverConfigText,
  };
}

/** values.yaml text: each value with its description as a comment, the header on top. */
export function helmValuesYaml(values: HelmValues, header: string): string {
  const shape = helmValuesSchema.shape;
  const parts = Object.entries(values).map(([key, value]) => {
    const description = (shape[key as keyof typeof shape] as { description?: string }).description ?? "";
    return `# ${description}\n${stringify({ [key]: value }, { lineWidth: 0 })}`;
  });
  const comment = header
    .split("\n")
    .map((line) => `# ${line}`.trimEnd())
    .join("\n");
  return `${comment}\n${parts.join("\n")}`;
}

/** values.schema.json of the chart. */
export function helmValuesJsonSchema(): string {
  return `${JSON.stringify(z.toJSONSchema(helmValuesSchema, { io: "input" }), null, 2)}\n`;
}

/** Placeholders in the settings' fragments, replaced by the chart's templates. */
export const HELM_PLACEHOLDER = { host: "HOST", name: "NAME", value: "VALUE", workload: "WORKLOAD" } as const;

/**
 * files/detour-settings.json of the chart: every setting and Envoy config fragment the templates
 * assemble, built by the same code `detour kubernetes` uses, with placeholders where the chart
 * fills in a value.
 */
export function helmSettings(): Record<string, unknown> {
  const { host, name, value, workload } = HELM_PLACEHOLDER;
  const present = { name, present_match: true };
  return {
    headers: {
      detour: DETOUR_HEADER,
      baggage: BAGGAGE_HEADER,
      baggageMember: BAGGAGE_MEMBER,
      token: TOKEN_HEADER,
      tokenCookie: TOKEN_COOKIE,
      route: ROUTE_HEADER,
      edgeMarker: EDGE_MARKER_HEADER,
      edgeMarkerValue: EDGE_MARKER_VALUE,
    },
    defaultGatewaySelector: DEFAULT_KUBERNETES_OPTIONS.gatewaySelector,
    server: {
      uid: SERVER_UID,
      resources: SERVER_RESOURCES,
      defaultShutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS,
    },
    // A server config with a kubernetes section: its RBAC (the istio rules join with
    // routingObjects: istio; NAME is the Lease's name) and its pod's downward-API env.
    discovery: {
      roleName: DISCOVERY_ROLE_NAME,
      leaderElectionRoleName: LEADER_ELECTION_ROLE_NAME,
      rules: discoveryRules({ routingObjects: "none" }),
      istioRules: discoveryRules({ routingObjects: "istio" }).slice(discoveryRules({ routingObjects: "none" }).length),
      leaderElectionRules: leaderElectionRules(name),
      env: DISCOVERY_ENV,
    },
    envoy: {
      extProcCluster: extProcCluster(`${host}:${GRPC_PORT}`),
      extProcFilter: {
        outbound: extProcFilter({ role: "outbound" }),
        outboundWorkload: extProcFilter({ role: "outbound", workload }),
        edge: extProcFilter({ role: "edge" }),
      },
      earlyRemoval: earlyHeaderRemoval([name]),
      onlyWhen: filterOnlyWhen({ name, typed_config: {} }, {}),
      predicate: {
        present: headerPredicate(present),
        contains: headerPredicate({ name, string_match: { contains: value } }),
        containsIgnoreCase: headerPredicate({ name, string_match: { contains: value, ignore_case: true } }),
        exact: headerPredicate({ name, string_match: { exact: value } }),
        queryParameter: queryParameterPredicate(name),
      },
    },
  };
}

/**
 * The generated files of the chart, by path inside it: values.yaml (the defaults, serving the
 * demo topology in the release's namespace), values.schema.json and files/detour-settings.json.
 */
export function helmChartFiles(options: KubernetesOptions, serverConfigText: string, header: string): Record<string, string> {
  return {
    // Helm merges a map value into the default instead of replacing it, so the default selector
    // is empty here and the templates fall back to the settings' one.
    "values.yaml": helmValuesYaml({ ...helmValues(options, serverConfigText), namespace: "", gatewaySelector: {} }, header),
    "values.schema.json": helmValuesJsonSchema(),
    "files/detour-settings.json": `${JSON.stringify(helmSettings(), null, 2)}\n`,
  };
}
