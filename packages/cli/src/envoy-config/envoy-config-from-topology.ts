import { isIP } from "node:net";
import { DetourError, ROUTE_HEADER } from "@detour/core";
import { parseHostPort, type DetourConfig, type HostPort } from "@detour/ext-proc";
import { ROLE_METADATA, WORKLOAD_METADATA } from "@detour/ext-proc/envoy";
import { stringify } from "yaml";
import {
  DEFAULT_MESSAGE_TIMEOUT_MS,
  EXT_PROC_CLUSTER,
  EXT_PROC_FILTER_NAME,
  EXT_PROC_MAX_REQUESTS_PER_CONNECTION,
  EXT_PROC_RETRY_POLICY, HEADERS_ONLY_PROCESSING_MODE,
  GRACEFUL_CLOSE_RUNTIME_KEY,
  outboundListenerName,
  outboundStatPrefix,
  versionClusterName,
} from "./envoy-names.js";
import { serviceVirtualHosts } from "./sidecar-routes.js";

type Json = Record<string, unknown>;

export interface EnvoyConfigOptions {
  /** host:port of the ext_proc server; default the topology's `server.listen`. */
  readonly extProcAddress?: string;
  /** Workloads that get an outbound listener; default every workload of the topology. */
  readonly workloads?: readonly string[];
  /** Listener port per workload key; unlisted workloads use `basePort + index`, or 0 (any free port). */
  readonly listeners?: Readonly<Record<string, number>>;
  readonly basePort?: number;
  /** Address the listeners bind; default 127.0.0.1. */
  readonly listenAddress?: string;
  /** Admin port on 127.0.0.1; default 0 (any free port). */
  readonly adminPort?: number;
  /** ext_proc per-message timeout; default 1000 ms. */
  readonly messageTimeoutMs?: number;
  /** Rewrites a version's endpoint (host:port); default the topology's `versions.<v>.endpoint`. */
  readonly endpoint?: (service: string, version: string) => string | undefined;
  /** Comment lines written at the top of the YAML text. */
  readonly header?: string;
}

function hostPortOf(text: string, what: string): HostPort {
  const address = parseHostPort(text);
  if (address === undefined) throw new DetourError("invalid-address", `${what}: '${text}' is not host:port`);
  return address;
}

function staticCluster(name: string, address: string, what: string, extra: Json = {}): Json {
  const { host, port } = hostPortOf(address, what);
  return {
    name,
    // An IP needs no resolver; a name (container, Kubernetes service) is re-resolved by DNS.
    type: isIP(host) === 0 ? "STRICT_DNS" : "STATIC",
    connect_timeout: "1s",
    ...extra,
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
    },
  };
}

function extProcCluster(address: string): Json {
  return staticCluster(EXT_PROC_CLUSTER, address, "ext_proc address", {
    connect_timeout: "0.25s",
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: "30s", timeout: "5s" } } },
        common_http_protocol_options: { max_requests_per_connection: EXT_PROC_MAX_REQUESTS_PER_CONNECTION },
      },
    },
    // One stream per HTTP request: the default 1024 concurrent requests would cap the sidecar,
    // and the default 3 concurrent retries would drop most retries while a server restarts
    // (upstream_rq_retry_overflow; each stream retries at most EXT_PROC_RETRY_POLICY.num_retries).
    circuit_breakers: { thresholds: [{ max_connections: 1_000_000, max_pending_requests: 1_000_000, max_requests: 1_000_000, max_retries: 1_000_000 }] },
  });
}

function extProcFilter(workload: string, messageTimeoutMs: number): Json {
  return {
    name: EXT_PROC_FILTER_NAME,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
      grpc_service: {
        envoy_grpc: { cluster_name: EXT_PROC_CLUSTER },
        // Identity comes from config the app never sees, not from a request header it could forge.
        initial_metadata: [
          { key: WORKLOAD_METADATA, value: workload },
          { key: ROLE_METADATA, value: "outbound" },
        ],
        retry_policy: EXT_PROC_RETRY_POLICY,
      },
      // Outbound: a dead ext_proc must not take traffic down; requests then go to the baseline.
      failure_mode_allow: true,
      message_timeout: `${(messageTimeoutMs / 1000).toFixed(3)}s`,
      processing_mode: { ...HEADERS_ONLY_PROCESSING_MODE }, // a copy: the yaml writer turns shared objects into anchors
    },
  };
}

function outboundListener(config: DetourConfig, workload: string, address: string, port: number, messageTimeoutMs: number): Json {
  const injects = config.workloads[workload]?.inject !== undefined;
  const name = outboundListenerName(workload);
  return {
    name,
    address: { socket_address: { address, port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: outboundStatPrefix(workload),
              // Virtual hosts are matched on the name alone (pricing, pricing:8080 alike).
              strip_any_host_port: true,
              // Runs before routing and every filter: an app's own x-detour-route can never
              // select a version, even while ext_proc is down (docs/spec.md §8).
              early_header_mutation_extensions: [
                {
                  name: "envoy.http.early_header_mutation.header_mutation",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
                    mutations: [{ remove: ROUTE_HEADER }],
                  },
                },
              ],
              route_config: {
                name,
                // The routing header is internal to this sidecar and never reaches a service.
                request_headers_to_remove: [ROUTE_HEADER],
                virtual_hosts: serviceVirtualHosts(config, injects, { tokenHop: config.workloads[workload]?.trust === "token" }),
              },
              http_filters: [
                extProcFilter(workload, messageTimeoutMs),
                { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
              ],
            },
          },
        ],
      },
    ],
  };
}

/**
 * The Envoy bootstrap (as a plain object) for detour sidecars: one outbound listener per
 * workload (`outbound:<service>/<version>`), one cluster per service version
 * (`<service>@<version>`) and the ext_proc cluster. Pure: no I/O.
 */
export function envoyBootstrapFromTopology(config: DetourConfig, options: EnvoyConfigOptions = {}): Json {
  const workloads = options.workloads ?? Object.keys(config.workloads);
  const listenAddress = options.listenAddress ?? "127.0.0.1";
  const messageTimeoutMs = options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
  const listeners = workloads.map((workload, index) => {
    const port = options.listeners?.[workload] ?? (options.basePort === undefined ? 0 : options.basePort + index);
    return outboundListener(config, workload, listenAddress, port, messageTimeoutMs);
  });
  const clusters: Json[] = [extProcCluster(options.extProcAddress ?? config.server.listen)];
  for (const [service, spec] of Object.entries(config.services)) {
    for (const [version, versionSpec] of Object.entries(spec.versions)) {
      const endpoint = options.endpoint?.(service, version) ?? versionSpec.endpoint;
      if (endpoint === undefined) {
        throw new DetourError(
          "missing-endpoint",
          `services.${service}.versions.${version}.endpoint is not set: Envoy needs an address (host:port) for every version`,
        );
      }
      clusters.push(staticCluster(versionClusterName(service, version), endpoint, `services.${service}.versions.${version}.endpoint`));
    }
  }
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: options.adminPort ?? 0 } } },
    layered_runtime: { layers: [{ name: "static", static_layer: { [GRACEFUL_CLOSE_RUNTIME_KEY]: true } }] },
    static_resources: { listeners, clusters },
  };
}

/** The same bootstrap as YAML text, ready for `envoy -c`. */
export function envoyConfigFromTopology(config: DetourConfig, options: EnvoyConfigOptions = {}): string {
  const yaml = stringify(envoyBootstrapFromTopology(config, options), { lineWidth: 0, aliasDuplicateObjects: false });
  if (options.header === undefined) return yaml;
  const comment = options.header
    .split("\n")
    .map((line) => `# ${line}`.trimEnd())
    .join("\n");
  return `${comment}\n${yaml}`;
}
