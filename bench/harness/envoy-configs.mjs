// Envoy bootstraps of the comparison scenarios, written by the benchmark (scenarios 2 and 3 use
// detour's own generated config instead, see detour-stack.mjs). They copy the generated
// sidecar's shape on purpose: same clusters, same HCM options, same route table, and for the
// ext_proc peers the same filter settings (processing_mode, message_timeout, failure mode,
// HTTP/2 cluster options), so only the thing being compared differs.
import { readFileSync } from "node:fs";

export const LISTENER = "bench";
export const EXT_PROC_CLUSTER = "bench_ext_proc";
const ROUTE_HEADER = "x-detour-route";
const EXT_PROC_FILTER = "envoy.filters.http.ext_proc";
const LUA_SOURCE = new URL("../peers/lua/detour-override.lua", import.meta.url);

/** `pricing@v2`, detour's cluster naming. */
export const clusterName = (service, version) => `${service}@${version}`;

function staticCluster(name, host, port, extra = {}) {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    ...extra,
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };
}

function versionClusters(topology, endpoints) {
  const clusters = [];
  for (const [service, spec] of Object.entries(topology)) {
    for (const version of spec.versions) {
      const { host, port } = endpoints[clusterName(service, version)];
      clusters.push(staticCluster(clusterName(service, version), host, port));
    }
  }
  return clusters;
}

const router = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };

function bootstrap({ httpFilters, virtualHosts, clusters, earlyRemoveRoute }) {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    layered_runtime: { layers: [{ name: "static", static_layer: { "envoy.reloadable_features.ext_proc_graceful_grpc_close": true } }] },
    static_resources: {
      listeners: [
        {
          name: LISTENER,
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: LISTENER,
                    strip_any_host_port: true,
                    ...(earlyRemoveRoute
                      ? {
                          early_header_mutation_extensions: [
                            {
                              name: "envoy.http.early_header_mutation.header_mutation",
                              typed_config: {
                                "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
                                mutations: [{ remove: ROUTE_HEADER }],
                              },
                            },
                          ],
                        }
                      : {}),
                    route_config: { name: LISTENER, ...(earlyRemoveRoute ? { request_headers_to_remove: [ROUTE_HEADER] } : {}), virtual_hosts: virtualHosts },
                    http_filters: [...httpFilters, router],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

const unknownHost = (perFilter) => ({
  name: "unknown-service",
  domains: ["*"],
  routes: [{ name: "unknown-service", match: { prefix: "/" }, direct_response: { status: 404, body: { inline_string: "no such service\n" } }, ...perFilter }],
});

/**
 * detour's route table: per-version routes on x-detour-route, carrier routes to the baseline,
 * default route to the baseline. `skipPerRoute` is the typed_per_filter_config that turns the
 * filter off on the default route (the skip path); the Lua comparison runs on every request.
 */
function routingVirtualHosts(topology, skipPerRoute) {
  const hosts = [];
  for (const [service, spec] of Object.entries(topology)) {
    const baseline = clusterName(service, spec.baseline);
    const routes = spec.versions.map((version) => ({
      name: `${service}:${version}`,
      match: { prefix: "/", headers: [{ name: ROUTE_HEADER, string_match: { exact: version } }] },
      route: { cluster: clusterName(service, version) },
    }));
    if (skipPerRoute !== undefined) {
      routes.push({ name: `${service}:carrier-0`, match: { prefix: "/", headers: [{ name: "x-detour", present_match: true }] }, route: { cluster: baseline } });
      routes.push({ name: `${service}:carrier-1`, match: { prefix: "/", headers: [{ name: "baggage", string_match: { contains: "detour" } }] }, route: { cluster: baseline } });
    }
    routes.push({ name: `${service}:default`, match: { prefix: "/" }, route: { cluster: baseline }, ...(skipPerRoute ?? {}) });
    hosts.push({ name: service, domains: [service, `${service}.*`], routes });
  }
  hosts.push(unknownHost(skipPerRoute ?? {}));
  return hosts;
}

/** Scenario 1: plain Envoy, one route per service to its baseline, no filter. */
export function plainBootstrap({ topology, endpoints }) {
  const virtualHosts = Object.entries(topology).map(([service, spec]) => ({
    name: service,
    domains: [service, `${service}.*`],
    routes: [{ name: `${service}:default`, match: { prefix: "/" }, route: { cluster: clusterName(service, spec.baseline) } }],
  }));
  virtualHosts.push(unknownHost({}));
  return bootstrap({ httpFilters: [], virtualHosts, clusters: versionClusters(topology, endpoints), earlyRemoveRoute: false });
}

/** The Lua source with the run's topology in place of the `@topology` line. */
export function luaSource(topology) {
  const table = Object.entries(topology)
    .map(([service, spec]) => `[${JSON.stringify(service)}] = { ${spec.versions.map((v) => `[${JSON.stringify(v)}] = true`).join(", ")} }`)
    .join(", ");
  const source = readFileSync(LUA_SOURCE, "utf8");
  const replaced = source.replace(/^local TOPOLOGY = .*-- @topology$/m, `local TOPOLOGY = { ${table} }`);
  if (replaced === source) throw new Error("detour-override.lua: the `-- @topology` line is missing");
  return replaced;
}

/** Scenario 4: the override rule as an in-process Lua filter. */
export function luaBootstrap({ topology, endpoints }) {
  const lua = {
    name: "envoy.filters.http.lua",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
      default_source_code: { inline_string: luaSource(topology) },
    },
  };
  return bootstrap({ httpFilters: [lua], virtualHosts: routingVirtualHosts(topology, undefined), clusters: versionClusters(topology, endpoints), earlyRemoveRoute: true });
}

/**
 * The ext_proc filter and cluster as detour's generator writes them (packages/cli
 * envoy-config): request headers only, 1 s message timeout, fail open, stream retries, HTTP/2 with
 * max_requests_per_connection 500, unbounded circuit breakers. fairness.mjs compares these
 * with the real generated config in every run where that is available.
 */
export function extProcFilter({ workload }) {
  return {
    name: EXT_PROC_FILTER,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
      grpc_service: {
        envoy_grpc: { cluster_name: EXT_PROC_CLUSTER },
        initial_metadata: [
          { key: "x-detour-workload", value: workload },
          { key: "x-detour-role", value: "outbound" },
        ],
        // Stream-start retries to another server (only on connect failure/reset: no cost on the
        // happy path), as the generator writes them.
        retry_policy: {
          retry_on: "connect-failure,refused-stream,unavailable,reset",
          num_retries: 2,
          retry_back_off: { base_interval: "0.005s", max_interval: "0.05s" },
          retry_host_predicate: [
            {
              name: "envoy.retry_host_predicates.previous_hosts",
              typed_config: { "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" },
            },
          ],
          host_selection_retry_max_attempts: 3,
        },
      },
      failure_mode_allow: true,
      message_timeout: "1.000s",
      processing_mode: {
        request_header_mode: "SEND",
        response_header_mode: "SKIP",
        request_body_mode: "NONE",
        response_body_mode: "NONE",
        request_trailer_mode: "SKIP",
        response_trailer_mode: "SKIP",
      },
    },
  };
}

export function extProcCluster(host, port) {
  return staticCluster(EXT_PROC_CLUSTER, host, port, {
    connect_timeout: "0.25s",
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: "30s", timeout: "5s" } } },
        common_http_protocol_options: { max_requests_per_connection: 500 },
      },
    },
    circuit_breakers: { thresholds: [{ max_connections: 1_000_000, max_pending_requests: 1_000_000, max_requests: 1_000_000, max_retries: 1_000_000 }] },
  });
}

/**
 * The skip path's per-route config, as detour's generator writes it on the default route: the
 * route-level FilterConfig{disabled}, so Envoy does not create the ext_proc filter at all
 * (fairness.mjs compares it with the generated config).
 */
export const SKIP_PER_FILTER_CONFIG = { [EXT_PROC_FILTER]: { "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", disabled: true } };

/** Scenarios 5 and 6: a peer ext_proc server behind the same sidecar shape as detour's. */
export function extProcPeerBootstrap({ topology, endpoints, extProc, workload }) {
  const skip = { typed_per_filter_config: SKIP_PER_FILTER_CONFIG };
  return bootstrap({
    httpFilters: [extProcFilter({ workload })],
    virtualHosts: routingVirtualHosts(topology, skip),
    clusters: [extProcCluster(extProc.host, extProc.port), ...versionClusters(topology, endpoints)],
    earlyRemoveRoute: true,
  });
}
