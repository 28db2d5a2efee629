import { ROUTE_HEADER } from "@detour/core";
import { ROLE_METADATA, type DetourConfig } from "@detour/ext-proc";
import { DEFAULT_MESSAGE_TIMEOUT_MS, EXT_PROC_CLUSTER, EXT_PROC_FILTER_NAME, versionClusterName } from "./envoy-names.js";
import type { EdgeSettings } from "./edge-settings.js";
import { carrierMatchers } from "./sidecar-routes.js";

type Json = Record<string, unknown>;

/** Listener name of the front door (admin /listeners, `envoy.listenerPort("edge")`). */
export const EDGE_LISTENER = "edge";
/** HCM stat prefix of the edge: `http.edge.ext_proc.streams_started`. */
export const EDGE_STAT_PREFIX = "edge";

export interface EdgeListenerOptions {
  /** Port to bind; default the port of `edge.listen`. */
  readonly port?: number;
  /** Address to bind; default the host of `edge.listen`. */
  readonly address?: string;
  readonly messageTimeoutMs?: number;
}

const DISABLE_EXT_PROC: Json = {
  [EXT_PROC_FILTER_NAME]: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute",
    disabled: true,
  },
};

/**
 * Edge trust (issue 7) plugs in here: the static removal of override carriers on untrusted
 * requests belongs in this list (Envoy does it itself, so a dead ext_proc cannot let an
 * override through), and token verification in the edge role of the ext_proc server. Until
 * then the edge trusts its (loopback) clients and only removes the internal routing header.
 */
function edgeEarlyMutations(): Json[] {
  return [{ remove: ROUTE_HEADER }];
}

function edgeExtProcFilter(messageTimeoutMs: number): Json {
  return {
    name: EXT_PROC_FILTER_NAME,
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
      grpc_service: {
        envoy_grpc: { cluster_name: EXT_PROC_CLUSTER },
        initial_metadata: [{ key: ROLE_METADATA, value: "edge" }],
      },
      // Fail open for traffic: without ext_proc the edge service's baseline serves.
      failure_mode_allow: true,
      message_timeout: `${(messageTimeoutMs / 1000).toFixed(3)}s`,
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

/** Routes of the edge: the same three tiers as a sidecar's virtual host, for the edge service only. */
function edgeRoutes(config: DetourConfig, service: string): Json[] {
  const spec = config.services[service]!;
  const baseline = versionClusterName(service, spec.baseline);
  const routes: Json[] = Object.keys(spec.versions).map((version) => ({
    name: `edge:${version}`,
    match: { prefix: "/", headers: [{ name: ROUTE_HEADER, string_match: { exact: version } }] },
    route: { cluster: versionClusterName(service, version) },
  }));
  carrierMatchers(config).forEach((matcher, index) => {
    routes.push({ name: `edge:carrier-${index}`, match: { prefix: "/", headers: [matcher] }, route: { cluster: baseline } });
  });
  routes.push({ name: "edge:default", match: { prefix: "/" }, route: { cluster: baseline }, typed_per_filter_config: DISABLE_EXT_PROC });
  return routes;
}

function hostPort(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(text.slice(colon + 1)) };
}

/**
 * The front door listener (`edge`): every request goes to the edge service (`edge.service`).
 * Requests with an override carrier pass the ext_proc server in role `edge` (it normalizes the
 * carriers; issue 7 adds token verification there); the rest skip it. The server resolves a
 * hop's destination from :authority, which Envoy does not let an early mutation rewrite, so an
 * override of the edge service itself takes effect when the edge's host name is listed in
 * `services.<edge service>.hosts`; otherwise its baseline serves.
 */
export function edgeListener(config: DetourConfig, settings: EdgeSettings, options: EdgeListenerOptions = {}): Json {
  const listen = hostPort(settings.listen);
  return {
    name: EDGE_LISTENER,
    address: { socket_address: { address: options.address ?? listen.host, port_value: options.port ?? listen.port } },
    filter_chains: [
      {
        filters: [
          {
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: EDGE_STAT_PREFIX,
              // The edge is where clients connect: their address is the real one (x-forwarded-for is not trusted).
              use_remote_address: true,
              early_header_mutation_extensions: [
                {
                  name: "envoy.http.early_header_mutation.header_mutation",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
                    mutations: edgeEarlyMutations(),
                  },
                },
              ],
              route_config: {
                name: EDGE_LISTENER,
                request_headers_to_remove: [ROUTE_HEADER],
                virtual_hosts: [{ name: EDGE_LISTENER, domains: ["*"], routes: edgeRoutes(config, settings.service) }],
              },
              http_filters: [
                edgeExtProcFilter(options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS),
                { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
              ],
            },
          },
        ],
      },
    ],
  };
}
