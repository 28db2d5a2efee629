import { BAGGAGE_HEADER, BAGGAGE_MEMBER, DETOUR_HEADER, DetourError, ROUTE_HEADER, TOKEN_COOKIE, TOKEN_HEADER } from "@detour/core";
import { parseHostPort, type DetourConfig } from "@detour/ext-proc";
import { EDGE_MARKER_HEADER, EDGE_MARKER_VALUE } from "@detour/ext-proc/envoy";
import { extProcFilter } from "./ext-proc-filter.js";
import { EXT_PROC_DISABLED_ON_ROUTE, versionClusterName } from "./envoy-names.js";
import type { HeaderMatcherJson } from "./filter-matcher.js";
import { earlyHeaderRemoval, routerFilter } from "./http-filters.js";
import type { EdgeSettings } from "./edge-settings.js";

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

/** Name of the filter chain that serves clients in `edge.trustedCidrs` (and of the default one). */
export const EDGE_TRUSTED_CHAIN = "edge-trusted-sources";
export const EDGE_DEFAULT_CHAIN = "edge-untrusted";

/** Alias header names of the topology (lower-case). */
export function aliasHeaders(config: DetourConfig): string[] {
  return config.aliases.flatMap((alias) => ("header" in alias ? [alias.header.toLowerCase()] : []));
}

/**
 * Edge trust, part 1 (docs/security.md): what Envoy removes from every request before routing
 * and before any filter, by static config, so no ext_proc state can undo it. Always: the
 * internal routing header and the edge marker (only the edge ext_proc may set either). On a
 * chain that trusts nobody by source, also every plain override header: x-detour and the alias
 * headers. x-detour-token stays: the edge ext_proc verifies it. Baggage members cannot be
 * removed one by one here; the edge ext_proc does that, and the routes below drop the whole
 * baggage header of any carrier-bearing request ext_proc did not answer.
 */
export function edgeEarlyRemovals(config: DetourConfig, stripPlainCarriers: boolean): string[] {
  const names = [ROUTE_HEADER, EDGE_MARKER_HEADER];
  if (stripPlainCarriers) names.push(DETOUR_HEADER, ...aliasHeaders(config));
  return names;
}

/**
 * Route matches for a request the edge ext_proc must see: anything that is or may hide an
 * override carrier or a token. Broader than a sidecar's on purpose: baggage is matched on
 * `detour` anywhere, case-insensitively (W3C allows `detour =v`, with OWS before the `=`), so
 * nothing that core would read as our member can take the skip path.
 */
export function edgeCarrierMatchers(config: DetourConfig): HeaderMatcherJson[] {
  const matchers: HeaderMatcherJson[] = [
    { name: DETOUR_HEADER, present_match: true },
    { name: BAGGAGE_HEADER, string_match: { contains: BAGGAGE_MEMBER, ignore_case: true } },
    { name: TOKEN_HEADER, present_match: true },
  ];
  for (const alias of config.aliases) {
    if ("baggage" in alias) matchers.push({ name: BAGGAGE_HEADER, string_match: { contains: alias.baggage, ignore_case: true } });
    else matchers.push({ name: alias.header.toLowerCase(), present_match: true });
  }
  if (config.edge?.tokens?.cookie ?? true) matchers.push({ name: "cookie", string_match: { contains: TOKEN_COOKIE } });
  return matchers;
}

/**
 * Edge trust, part 2: routes of the edge service. Order matters:
 * 1. `x-detour-route` = version and the edge marker: ext_proc admitted an override naming a
 *    version of the edge service;
 * 2. the marker alone: ext_proc answered; forward what it left (the baseline serves);
 * 3. carrier-bearing requests (ext_proc enabled): reached only when ext_proc did not answer
 *    (down, timed out, failed open), so every carrier is removed, baggage included: other
 *    baggage members are lost only while the edge ext_proc is down, and traffic still flows;
 * 4. everything else skips ext_proc (nothing to check) and still loses plain carrier headers.
 */
function edgeRoutes(config: DetourConfig, service: string): Json[] {
  const spec = config.services[service]!;
  const baseline = versionClusterName(service, spec.baseline);
  const marker = { name: EDGE_MARKER_HEADER, string_match: { exact: EDGE_MARKER_VALUE } };
  const plainHeaders = [DETOUR_HEADER, TOKEN_HEADER, ...aliasHeaders(config)];
  const routes: Json[] = Object.keys(spec.versions).map((version) => ({
    name: `edge:${version}`,
    match: { prefix: "/", headers: [{ name: ROUTE_HEADER, string_match: { exact: version } }, marker] },
    route: { cluster: versionClusterName(service, version) },
  }));
  routes.push({ name: "edge:checked", match: { prefix: "/", headers: [marker] }, route: { cluster: baseline } });
  const unanswered = { cluster: baseline };
  edgeCarrierMatchers(config).forEach((matcher, index) => {
    routes.push({
      name: `edge:unchecked-${index}`,
      match: { prefix: "/", headers: [matcher] },
      route: unanswered,
      request_headers_to_remove: [...plainHeaders, BAGGAGE_HEADER],
    });
  });
  const query = config.edge?.tokens?.queryParameter;
  if (query !== undefined) {
    routes.push({
      name: "edge:unchecked-query",
      match: { prefix: "/", query_parameters: [{ name: query, present_match: true }] },
      route: unanswered,
      request_headers_to_remove: [...plainHeaders, BAGGAGE_HEADER],
    });
  }
  routes.push({
    name: "edge:default",
    match: { prefix: "/" },
    route: { cluster: baseline },
    request_headers_to_remove: plainHeaders,
    typed_per_filter_config: EXT_PROC_DISABLED_ON_ROUTE,
  });
  return routes;
}

function cidrRange(cidr: string): Json {
  const slash = cidr.indexOf("/");
  const address = slash === -1 ? cidr : cidr.slice(0, slash);
  const prefix = slash === -1 ? (address.includes(":") ? 128 : 32) : Number(cidr.slice(slash + 1));
  return { address_prefix: address, prefix_len: prefix };
}

/**
 * The front door listener (`edge`): every request goes to the edge service (`edge.service`).
 * Requests with an override carrier or a token pass the ext_proc server in role `edge`, which
 * verifies the token, admits trusted sources, removes everything else (docs/security.md) and
 * routes the edge service itself (the server knows `edge.service`); the rest skip it. With no
 * `trustedCidrs` / `trustedPrincipals` (the default) the edge trusts nobody: only a valid
 * token sets an override.
 */
export function edgeListener(config: DetourConfig, settings: EdgeSettings, options: EdgeListenerOptions = {}): Json {
  const listen = parseHostPort(settings.listen);
  if (listen === undefined) throw new DetourError("invalid-config", `edge.listen: '${settings.listen}' is not host:port`);
  const trustedCidrs = config.edge?.trustedCidrs ?? [];
  // Principals are known only to ext_proc (from the header Envoy sets after the TLS
  // handshake), so with trusted principals plain carriers must reach it; the routes still
  // remove them whenever ext_proc did not answer.
  const principals = (config.edge?.trustedPrincipals ?? []).length !== 0;
  const hcm = (stripPlainCarriers: boolean): Json => ({
    name: "envoy.filters.network.http_connection_manager",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
      stat_prefix: EDGE_STAT_PREFIX,
      // The edge is where clients connect: their address is the real one (x-forwarded-for is not trusted).
      use_remote_address: true,
      // mTLS principals: Envoy replaces any client-sent x-forwarded-client-cert with the
      // verified peer's URI and DNS SANs (without principals, the default SANITIZE drops it).
      ...(principals ? { forward_client_cert_details: "SANITIZE_SET", set_current_client_cert_details: { uri: true, dns: true } } : {}),
      early_header_mutation_extensions: [earlyHeaderRemoval(edgeEarlyRemovals(config, stripPlainCarriers))],
      route_config: {
        name: EDGE_LISTENER,
        // Internal to the edge: neither header ever reaches the edge service.
        request_headers_to_remove: [ROUTE_HEADER, EDGE_MARKER_HEADER],
        virtual_hosts: [{ name: EDGE_LISTENER, domains: ["*"], routes: edgeRoutes(config, settings.service) }],
      },
      http_filters: [
        extProcFilter({ role: "edge", messageTimeoutMs: options.messageTimeoutMs }),
        routerFilter(),
      ],
    },
  });
  // Clients in edge.trustedCidrs get their own filter chain (Envoy picks it by the peer
  // address) whose plain carriers reach ext_proc; everyone else's are removed on arrival.
  const chains: Json[] = [];
  if (trustedCidrs.length !== 0) {
    chains.push({ name: EDGE_TRUSTED_CHAIN, filter_chain_match: { source_prefix_ranges: trustedCidrs.map(cidrRange) }, filters: [hcm(false)] });
  }
  chains.push({ name: EDGE_DEFAULT_CHAIN, filters: [hcm(!principals)] });
  return {
    name: EDGE_LISTENER,
    address: { socket_address: { address: options.address ?? listen.host, port_value: options.port ?? listen.port } },
    filter_chains: chains,
  };
}
