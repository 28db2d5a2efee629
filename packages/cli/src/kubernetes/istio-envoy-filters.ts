import { BAGGAGE_HEADER, DETOUR_HEADER, ROUTE_HEADER, TOKEN_HEADER } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { EDGE_MARKER_HEADER, EDGE_MARKER_VALUE } from "@detour/ext-proc/envoy";
import { aliasHeaders, edgeCarrierMatchers, edgeEarlyRemovals } from "../envoy-config/edge-listener.js";
import { extProcCluster } from "../envoy-config/ext-proc-cluster.js";
import { extProcFilter } from "../envoy-config/ext-proc-filter.js";
import { EXT_PROC_FILTER_NAME } from "../envoy-config/envoy-names.js";
import { allOf, anyOf, filterOnlyWhen, headerPredicate, not, queryParameterPredicate, type Predicate } from "../envoy-config/filter-matcher.js";
import { earlyHeaderRemoval } from "../envoy-config/http-filters.js";
import { sidecarCarrierMatchers } from "../envoy-config/sidecar-routes.js";
import type { KubernetesOptions } from "./kubernetes-options.js";
import { ownedMetadata, serviceHost, type KubernetesObject } from "@detour/ext-proc/kubernetes";
import { EDGE_FILTER_NAME, GRPC_PORT, SERVER_NAME, SIDECAR_FILTER_NAME, workloadFilterName } from "./kubernetes-names.js";
import { sortedNames } from "./sorted-names.js";

type Json = Record<string, unknown>;
type PatchContext = "SIDECAR_OUTBOUND" | "GATEWAY";

/** EnvoyFilter is served only as v1alpha3; Istio has said it will never reach v1. */
export const ENVOY_FILTER_API_VERSION = "networking.istio.io/v1alpha3";

const HCM = "envoy.filters.network.http_connection_manager";
const ROUTER = "envoy.filters.http.router";

/**
 * Priority of the per-workload EnvoyFilters: they REPLACE the ext_proc filter the namespace-wide
 * one inserted (priority 0), so they must be applied after it.
 */
export const WORKLOAD_FILTER_PRIORITY = 10;

/** Name of the gateway's HTTP filter that removes every carrier from a request the edge ext_proc did not answer. */
export const EDGE_UNANSWERED_FILTER_NAME = "detour.edge.unanswered";

function httpFilterMatch(context: PatchContext, subFilter: string): Json {
  return { context, listener: { filterChain: { filter: { name: HCM, subFilter: { name: subFilter } } } } };
}

function clusterPatch(context: PatchContext, address: string): Json {
  return { applyTo: "CLUSTER", match: { context }, patch: { operation: "ADD", value: extProcCluster(address) } };
}

function earlyRemovalPatch(context: PatchContext, names: readonly string[]): Json {
  return {
    applyTo: "NETWORK_FILTER",
    match: { context, listener: { filterChain: { filter: { name: HCM } } } },
    patch: {
      operation: "MERGE",
      value: {
        name: HCM,
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          early_header_mutation_extensions: [earlyHeaderRemoval(names)],
        },
      },
    },
  };
}

/** Internal headers never leave the proxy: removed when the request is forwarded, after its route was chosen. */
function routeConfigPatch(context: PatchContext, names: readonly string[]): Json {
  return { applyTo: "ROUTE_CONFIGURATION", match: { context }, patch: { operation: "MERGE", value: { request_headers_to_remove: [...names] } } };
}

function insertBeforeRouter(context: PatchContext, filter: Json): Json {
  return { applyTo: "HTTP_FILTER", match: httpFilterMatch(context, ROUTER), patch: { operation: "INSERT_BEFORE", value: filter } };
}

/** The address Envoy dials for ext_proc: the server's Service by its cluster-local name. */
export function extProcAddress(options: KubernetesOptions): string {
  return `${serviceHost(SERVER_NAME, options.namespace, options.clusterDomain)}:${GRPC_PORT}`;
}

/** The sidecar's ext_proc filter for `workload` (none: no identity), only for requests with a carrier unless the workload injects. */
function sidecarExtProcFilter(config: DetourConfig, options: KubernetesOptions, workload: string | undefined): Json {
  const spec = workload === undefined ? undefined : config.workloads[workload];
  const filter = extProcFilter({ role: "outbound", workload, messageTimeoutMs: options.messageTimeoutMs }) as { name: string; typed_config: Json };
  // A workload that injects needs ext_proc on every request: its injection is the override.
  if (spec?.inject !== undefined) return filter;
  const carriers = sidecarCarrierMatchers(config, { tokenHop: spec?.trust === "token" }).map(headerPredicate);
  return filterOnlyWhen(filter, anyOf(carriers));
}

/**
 * The namespace-wide EnvoyFilter (no workloadSelector: every sidecar of the namespace), in
 * context SIDECAR_OUTBOUND:
 * - the ext_proc cluster, built exactly as the generated bootstraps build it;
 * - an early header mutation removing any x-detour-route an application sends, before routing;
 * - x-detour-route removed when the request leaves (route configuration);
 * - the ext_proc filter before the router, created only for a request that carries an override
 *   carrier (filter-matcher.ts): Istio owns the routes, so the skip path cannot live on them.
 * The filter carries no workload identity; workloads that need one get their own EnvoyFilter.
 */
export function sidecarEnvoyFilter(config: DetourConfig, options: KubernetesOptions): KubernetesObject {
  const context = "SIDECAR_OUTBOUND";
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: "EnvoyFilter",
    metadata: ownedMetadata(SIDECAR_FILTER_NAME, options.namespace, "sidecar"),
    spec: {
      configPatches: [
        clusterPatch(context, extProcAddress(options)),
        earlyRemovalPatch(context, [ROUTE_HEADER]),
        routeConfigPatch(context, [ROUTE_HEADER]),
        insertBeforeRouter(context, sidecarExtProcFilter(config, options, undefined)),
      ],
    },
  };
}

/** Workloads whose sidecar must tell ext_proc who is calling: they inject an override, or trust only tokens. */
export function identifiedWorkloads(config: DetourConfig): string[] {
  return sortedNames(config.workloads).filter((key) => config.workloads[key]!.inject !== undefined || config.workloads[key]!.trust === "token");
}

/**
 * One EnvoyFilter per workload that needs an identity, selecting its pods by the app and
 * version labels and replacing the namespace-wide ext_proc filter with one whose stream
 * metadata names the workload (x-detour-workload). Identity lives in config the application
 * never sees, so no request can claim another workload's injection.
 */
export function workloadEnvoyFilter(config: DetourConfig, options: KubernetesOptions, workload: string): KubernetesObject {
  const [service, version] = workload.split("/") as [string, string];
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: "EnvoyFilter",
    metadata: ownedMetadata(workloadFilterName(workload), options.namespace, "sidecar"),
    spec: {
      workloadSelector: { labels: { [options.appLabel]: service, [options.versionLabel]: version } },
      priority: WORKLOAD_FILTER_PRIORITY,
      configPatches: [
        {
          applyTo: "HTTP_FILTER",
          match: httpFilterMatch("SIDECAR_OUTBOUND", EXT_PROC_FILTER_NAME),
          patch: { operation: "REPLACE", value: sidecarExtProcFilter(config, options, workload) },
        },
      ],
    },
  };
}

/** Predicates for a request that is or may hide an override carrier or a token at the edge. */
function edgeCarrierPredicates(config: DetourConfig): Predicate[] {
  const predicates = edgeCarrierMatchers(config).map(headerPredicate);
  const query = config.edge?.tokens?.queryParameter;
  if (query !== undefined) predicates.push(queryParameterPredicate(query));
  return predicates;
}

/**
 * The ingress gateway's EnvoyFilter (context GATEWAY), the edge role of docs/security.md on
 * Istio's gateway:
 * - early header mutation: x-detour-route and the edge marker always, and, when the topology
 *   trusts no source (no trustedCidrs, no trustedPrincipals), every plain carrier header too —
 *   removed by static config before any filter, so no ext_proc state can undo it;
 * - the edge ext_proc filter (token verification, trusted sources, carrier rewrite), only for
 *   requests with something to check;
 * - after it, a header mutation that removes every carrier (baggage included) from a request
 *   that carries one but was not answered by ext_proc (no edge marker: ext_proc down, timed out,
 *   failed open): fail open for traffic, closed for overrides;
 * - the route header and the marker removed when the request is forwarded.
 * Istio owns the gateway's filter chains, so trusted sources cannot get a chain of their own as
 * in the generated edge listener: with trustedCidrs the plain carriers reach ext_proc, which
 * admits them by source.address, and the unanswered-request filter still removes them.
 */
export function edgeEnvoyFilter(config: DetourConfig, options: KubernetesOptions): KubernetesObject {
  const context = "GATEWAY";
  const edge = config.edge!;
  const trustsNobody = edge.trustedCidrs.length === 0 && edge.trustedPrincipals.length === 0;
  const carriers = anyOf(edgeCarrierPredicates(config));
  const extProc = filterOnlyWhen(extProcFilter({ role: "edge", messageTimeoutMs: options.messageTimeoutMs }) as { name: string; typed_config: Json }, carriers);
  const answered = headerPredicate({ name: EDGE_MARKER_HEADER, string_match: { exact: EDGE_MARKER_VALUE } });
  const unanswered = filterOnlyWhen(
    {
      name: EDGE_UNANSWERED_FILTER_NAME,
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
        mutations: { request_mutations: [DETOUR_HEADER, TOKEN_HEADER, ...aliasHeaders(config), BAGGAGE_HEADER].map((name) => ({ remove: name })) },
      },
    },
    allOf([carriers, not(answered)]),
  );
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: "EnvoyFilter",
    metadata: ownedMetadata(EDGE_FILTER_NAME, options.gatewayNamespace, "edge"),
    spec: {
      workloadSelector: { labels: { ...options.gatewaySelector } },
      configPatches: [
        clusterPatch(context, extProcAddress(options)),
        earlyRemovalPatch(context, edgeEarlyRemovals(config, trustsNobody)),
        routeConfigPatch(context, [ROUTE_HEADER, EDGE_MARKER_HEADER]),
        insertBeforeRouter(context, extProc),
        insertBeforeRouter(context, unanswered),
      ],
    },
  };
}
