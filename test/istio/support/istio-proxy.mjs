// Envoy configuration shaped like what istiod sends an Istio proxy, built from Istio objects
// (VirtualServices, DestinationRules), and Istio's EnvoyFilter patch semantics, so the
// EnvoyFilters `detour kubernetes` renders can run in a real Envoy without a cluster.
//
// Shape (Istio 1.2x-1.3x outbound sidecar / ingress gateway, static instead of xDS):
//   listener `0.0.0.0_<port>` -> HCM (stat_prefix outbound_0.0.0.0_<port>, route config `<port>`
//   or `http.<port>` at a gateway) -> HTTP filters grpc_stats, fault, cors, router
//   (Istio's own istio.* filters are not in upstream Envoy and stay out);
//   one virtual host per service host (`<fqdn>:<port>`, domains: the short names Istio lists),
//   routes translated from the VirtualService's http routes in order (name, header matches,
//   route to `outbound|<port>|<subset>|<fqdn>` with Istio's route defaults), else `default`;
//   the `allow_any` virtual host to PassthroughCluster; clusters `outbound|<port>|<subset>|<fqdn>`
//   per DestinationRule subset with the pods its labels select.
// Patch semantics implemented (the ones detour's EnvoyFilters use; anything else throws, so a
// new patch cannot pass unnoticed): selection by namespace and workloadSelector, order (root
// namespace first, then priority, then list order), match.context, CLUSTER ADD,
// NETWORK_FILTER MERGE (proto merge, typed_config merged when the @type agrees), HTTP_FILTER
// INSERT_BEFORE / INSERT_AFTER / REPLACE relative to a named sub-filter, ROUTE_CONFIGURATION MERGE.
// This file is plain JavaScript so bench/ can run the same shape (bench/istio-skip-path.mjs).

const HCM = "envoy.filters.network.http_connection_manager";
const HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

const clone = (value) => structuredClone(value);

/** `pricing.shop.svc.cluster.local` for a host as written in an object of `namespace`. */
export function qualifiedHost(host, namespace, clusterDomain) {
  const labels = host.split(".");
  if (labels.length === 1) return `${host}.${namespace}.svc.${clusterDomain}`;
  if (labels.length === 2) return `${host}.svc.${clusterDomain}`;
  if (labels.length === 3 && labels[2] === "svc") return `${host}.${clusterDomain}`;
  return host;
}

/** Istio's outbound cluster name. */
export function outboundCluster(port, subset, fqdn) {
  return `outbound|${port}|${subset ?? ""}|${fqdn}`;
}

function staticCluster(name, addresses) {
  return {
    name,
    type: "STATIC",
    connect_timeout: "10s",
    lb_policy: "LEAST_REQUEST",
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }] },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: addresses.map(({ host, port }) => ({ endpoint: { address: { socket_address: { address: host, port_value: port } } } })) }],
    },
  };
}

function istioRoute(name, match, cluster, decorator) {
  return {
    name,
    match,
    route: {
      cluster,
      timeout: "0s",
      retry_policy: {
        retry_on: "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
        num_retries: 2,
        retry_host_predicate: [
          { name: "envoy.retry_host_predicates.previous_hosts", typed_config: { "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" } },
        ],
        host_selection_retry_max_attempts: "5",
      },
      max_stream_duration: { max_stream_duration: "0s", grpc_timeout_header_max: "0s" },
    },
    decorator: { operation: decorator },
  };
}

/** Envoy HeaderMatchers for an Istio HTTPMatchRequest's `headers` map. */
function headerMatchers(headers = {}) {
  return Object.entries(headers).map(([name, match]) => {
    if (match.exact !== undefined) return { name, string_match: { exact: match.exact } };
    if (match.prefix !== undefined) return { name, string_match: { prefix: match.prefix } };
    if (match.regex !== undefined) return { name, string_match: { safe_regex: { regex: match.regex } } };
    return { name, present_match: true };
  });
}

/** Envoy routes for the http routes of a VirtualService, as istiod translates them (one Envoy route per match). */
function routesOf(virtualService, port, clusterDomain) {
  const namespace = virtualService.metadata.namespace;
  const routes = [];
  for (const http of virtualService.spec.http ?? []) {
    const destination = http.route[0].destination;
    const cluster = outboundCluster(port, destination.subset, qualifiedHost(destination.host, namespace, clusterDomain));
    const decorator = `${qualifiedHost(destination.host, namespace, clusterDomain)}:${port}/*`;
    const matches = http.match ?? [{}];
    for (const match of matches) {
      const headers = headerMatchers(match.headers);
      routes.push(istioRoute(http.name ?? "default", { prefix: "/", case_sensitive: true, ...(headers.length ? { headers } : {}) }, cluster, decorator));
    }
  }
  return routes;
}

function domainsOf(fqdn, port, namespace, clusterDomain) {
  const service = fqdn.split(".")[0];
  const names = fqdn.endsWith(`.${namespace}.svc.${clusterDomain}`) ? [fqdn, `${service}.${namespace}.svc`, `${service}.${namespace}`, service] : [fqdn];
  return names.flatMap((name) => [name, `${name}:${port}`]);
}

function hcm(statPrefix, routeConfig, { gateway = false } = {}) {
  const filter = (name, type, config = {}) => ({ name, typed_config: { "@type": type, ...config } });
  return {
    name: HCM,
    typed_config: {
      "@type": HCM_TYPE,
      stat_prefix: statPrefix,
      route_config: routeConfig,
      http_filters: [
        filter("envoy.filters.http.grpc_stats", "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig", { emit_filter_state: true, stats_for_all_methods: false }),
        filter("envoy.filters.http.fault", "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"),
        filter("envoy.filters.http.cors", "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"),
        filter("envoy.filters.http.router", "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"),
      ],
      use_remote_address: gateway,
      normalize_path: true,
      path_with_escaped_slashes_action: "KEEP_UNCHANGED",
      upgrade_configs: [{ upgrade_type: "websocket" }],
      stream_idle_timeout: "0s",
    },
  };
}

/**
 * Clusters of every host (`outbound|<port>||<fqdn>`: all its pods) and of every DestinationRule
 * subset of a host (the pods whose labels the subset selects); pods are { fqdn, labels, host, port }.
 */
function serviceClusters(hosts, destinationRules, pods, port, clusterDomain) {
  const clusters = [];
  for (const fqdn of hosts) {
    const ofHost = pods.filter((pod) => pod.fqdn === fqdn);
    clusters.push(staticCluster(outboundCluster(port, undefined, fqdn), ofHost));
    for (const rule of destinationRules.filter((candidate) => qualifiedHost(candidate.spec.host, candidate.metadata.namespace, clusterDomain) === fqdn)) {
      for (const subset of rule.spec.subsets ?? []) {
        const selected = ofHost.filter((pod) => Object.entries(subset.labels).every(([key, value]) => pod.labels[key] === value));
        clusters.push(staticCluster(outboundCluster(port, subset.name, fqdn), selected));
      }
    }
  }
  return clusters;
}

/**
 * An outbound sidecar for one port: listener `name` on 127.0.0.1:`listenPort`, a virtual host per
 * host in `hosts` (routes from the VirtualService of that host, if any), allow_any last.
 */
export function istioSidecarProxy({ name, statPrefix, listenPort = 0, port, namespace, clusterDomain, hosts, virtualServices, destinationRules, pods }) {
  const virtualHosts = hosts.map((fqdn) => {
    const vs = virtualServices.find((candidate) => (candidate.spec.gateways ?? ["mesh"]).includes("mesh") && candidate.spec.hosts.some((host) => qualifiedHost(host, candidate.metadata.namespace, clusterDomain) === fqdn));
    const routes = vs ? routesOf(vs, port, clusterDomain) : [istioRoute("default", { prefix: "/" }, outboundCluster(port, undefined, fqdn), `${fqdn}:${port}/*`)];
    return { name: `${fqdn}:${port}`, domains: domainsOf(fqdn, port, namespace, clusterDomain), routes, include_request_attempt_count: true };
  });
  virtualHosts.push({ name: "allow_any", domains: ["*"], routes: [{ name: "allow_any", match: { prefix: "/" }, route: { cluster: "PassthroughCluster", timeout: "0s" } }] });
  return {
    listeners: [
      {
        name,
        address: { socket_address: { address: "127.0.0.1", port_value: listenPort } },
        filter_chains: [{ filters: [hcm(statPrefix, { name: String(port), virtual_hosts: virtualHosts, validate_clusters: false })] }],
      },
    ],
    clusters: [...serviceClusters(hosts, destinationRules, pods, port, clusterDomain), { name: "PassthroughCluster", type: "ORIGINAL_DST", connect_timeout: "10s", lb_policy: "CLUSTER_PROVIDED" }],
  };
}

/** An ingress gateway's HTTP listener: a virtual host per host of the VirtualServices bound to `gateway`; `hosts` are the mesh services it can reach. */
export function istioGatewayProxy({ name, statPrefix, listenPort = 0, port, gateway, clusterDomain, hosts, virtualServices, destinationRules, pods }) {
  const virtualHosts = [];
  for (const vs of virtualServices.filter((candidate) => (candidate.spec.gateways ?? []).includes(gateway))) {
    for (const host of vs.spec.hosts) virtualHosts.push({ name: `${host}:80`, domains: [host, `${host}:*`], routes: routesOf(vs, port, clusterDomain), include_request_attempt_count: true });
  }
  return {
    listeners: [
      {
        name,
        address: { socket_address: { address: "127.0.0.1", port_value: listenPort } },
        filter_chains: [{ filters: [hcm(statPrefix, { name: "http.8080", virtual_hosts: virtualHosts, validate_clusters: false }, { gateway: true })] }],
      },
    ],
    clusters: serviceClusters(hosts, destinationRules, pods, port, clusterDomain),
  };
}

/** Proto merge as istiod applies MERGE: messages field by field, repeated fields appended, scalars replaced. */
export function protoMerge(target, patch) {
  for (const [key, value] of Object.entries(patch)) {
    if (Array.isArray(value)) target[key] = [...(Array.isArray(target[key]) ? target[key] : []), ...clone(value)];
    else if (value !== null && typeof value === "object") {
      const current = target[key];
      // An Any merges only into an Any of the same type; otherwise it replaces.
      if (current !== null && typeof current === "object" && !Array.isArray(current) && (value["@type"] === undefined || current["@type"] === value["@type"])) protoMerge(current, value);
      else target[key] = clone(value);
    } else target[key] = value;
  }
  return target;
}

function selects(filter, proxy) {
  const namespace = filter.metadata.namespace;
  if (namespace !== proxy.namespace && namespace !== proxy.rootNamespace) return false;
  const labels = filter.spec.workloadSelector?.labels;
  return labels === undefined || Object.entries(labels).every(([key, value]) => proxy.labels[key] === value);
}

function hcmsOf(config) {
  return config.listeners.flatMap((listener) => listener.filter_chains.flatMap((chain) => chain.filters.filter((filter) => filter.name === HCM)));
}

function unsupported(patch, why) {
  throw new Error(`EnvoyFilter patch not implemented by this harness (${why}): ${JSON.stringify(patch).slice(0, 300)}`);
}

function applyPatch(config, patch, context) {
  const { applyTo, match = {}, patch: { operation, value } } = patch;
  if (match.context !== undefined && match.context !== "ANY" && match.context !== context) return;
  const filterMatch = match.listener?.filterChain?.filter;
  const listenerKeys = Object.keys(match.listener ?? {}).filter((key) => key !== "filterChain");
  if (listenerKeys.length || Object.keys(match.listener?.filterChain ?? {}).some((key) => key !== "filter") || match.proxy || match.routeConfiguration || match.cluster) {
    unsupported(patch, "match fields beyond context and filterChain.filter");
  }
  if (applyTo === "CLUSTER" && operation === "ADD") {
    config.clusters.push(clone(value));
  } else if (applyTo === "NETWORK_FILTER" && operation === "MERGE") {
    for (const listener of config.listeners) {
      for (const chain of listener.filter_chains) for (const filter of chain.filters) if (filter.name === filterMatch?.name) protoMerge(filter, value);
    }
  } else if (applyTo === "HTTP_FILTER" && ["INSERT_BEFORE", "INSERT_AFTER", "REPLACE"].includes(operation)) {
    if (filterMatch?.name !== HCM || filterMatch.subFilter?.name === undefined) unsupported(patch, "HTTP_FILTER without an HCM sub-filter match");
    for (const manager of hcmsOf(config)) {
      const filters = manager.typed_config.http_filters;
      const index = filters.findIndex((filter) => filter.name === filterMatch.subFilter.name);
      if (index === -1) continue;
      if (operation === "INSERT_BEFORE") filters.splice(index, 0, clone(value));
      else if (operation === "INSERT_AFTER") filters.splice(index + 1, 0, clone(value));
      else filters.splice(index, 1, clone(value));
    }
  } else if (applyTo === "ROUTE_CONFIGURATION" && operation === "MERGE") {
    for (const manager of hcmsOf(config)) protoMerge(manager.typed_config.route_config, value);
  } else {
    unsupported(patch, `${applyTo} ${operation}`);
  }
}

/**
 * Applies the EnvoyFilters that select `proxy` ({ context, namespace, labels, rootNamespace })
 * to a copy of `config` ({ listeners, clusters }), in Istio's order.
 */
export function applyEnvoyFilters(config, envoyFilters, proxy) {
  const result = clone(config);
  const selected = envoyFilters
    .map((filter, index) => ({ filter, index }))
    .filter(({ filter }) => filter.kind === "EnvoyFilter" && selects(filter, proxy))
    .sort((a, b) => {
      const rootA = a.filter.metadata.namespace === proxy.rootNamespace ? 0 : 1;
      const rootB = b.filter.metadata.namespace === proxy.rootNamespace ? 0 : 1;
      return rootA - rootB || (a.filter.spec.priority ?? 0) - (b.filter.spec.priority ?? 0) || a.index - b.index;
    });
  for (const { filter } of selected) for (const patch of filter.spec.configPatches) applyPatch(result, patch, proxy.context);
  return result;
}

/**
 * One Envoy bootstrap holding several proxies' listeners (names must differ) and their clusters
 * (one copy per name), with the runtime values Istio writes into the bootstrap from
 * ProxyConfig.runtimeValues, and an admin listener on a free port.
 */
export function bootstrapOf(proxies, { runtimeValues = {} } = {}) {
  const clusters = new Map();
  for (const proxy of proxies) for (const cluster of proxy.clusters) if (!clusters.has(cluster.name)) clusters.set(cluster.name, cluster);
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    layered_runtime: { layers: [{ name: "global config", static_layer: runtimeValues }, { name: "admin", admin_layer: {} }] },
    static_resources: { listeners: proxies.flatMap((proxy) => proxy.listeners), clusters: [...clusters.values()] },
  };
}

/** Points cluster `name` at host:port (a stand-in for the DNS answer of the cluster's Service name). */
export function pointClusterAt(bootstrap, name, host, port) {
  for (const cluster of bootstrap.static_resources.clusters) {
    if (cluster.name !== name) continue;
    cluster.type = "STATIC";
    cluster.load_assignment.endpoints = [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }];
  }
  return bootstrap;
}
