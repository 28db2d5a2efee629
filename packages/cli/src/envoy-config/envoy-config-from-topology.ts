import { DetourError, ROUTE_HEADER } from "@detour/core";
import type { DetourConfig } from "@detour/ext-proc";
import { stringify } from "yaml";
import { extProcCluster } from "./ext-proc-cluster.js";
import { extProcFilter } from "./ext-proc-filter.js";
import { DEFAULT_MESSAGE_TIMEOUT_MS, GRACEFUL_CLOSE_RUNTIME_KEY, outboundListenerName, outboundStatPrefix, versionClusterName } from "./envoy-names.js";
import { earlyHeaderRemoval, routerFilter } from "./http-filters.js";
import { serviceVirtualHosts } from "./sidecar-routes.js";
import { staticCluster } from "./static-cluster.js";

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
              early_header_mutation_extensions: [earlyHeaderRemoval([ROUTE_HEADER])],
              route_config: {
                name,
                // The routing header is internal to this sidecar and never reaches a service.
                request_headers_to_remove: [ROUTE_HEADER],
                virtual_hosts: serviceVirtualHosts(config, injects, { tokenHop: config.workloads[workload]?.trust === "token" }),
              },
              http_filters: [
                extProcFilter({ role: "outbound", workload, messageTimeoutMs }),
                routerFilter(),
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
