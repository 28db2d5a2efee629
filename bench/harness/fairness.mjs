// The peers' Envoy config copies the ext_proc settings of detour's generated sidecar by hand
// (envoy-configs.mjs). Whenever the generator is available this compares the two, so a change
// in the generator (a new timeout, another processing mode) cannot silently make the comparison
// unfair: differences are printed and recorded in latest.json.
import { EXT_PROC_CLUSTER, extProcCluster, extProcFilter, SKIP_PER_FILTER_CONFIG } from "./envoy-configs.mjs";

const EXT_PROC_FILTER = "envoy.filters.http.ext_proc";

function findFilter(bootstrap) {
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const filter of chain.filters ?? []) {
        const found = filter.typed_config?.http_filters?.find((f) => f.name === EXT_PROC_FILTER);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** typed_per_filter_config of the first default route (`<service>:default`): the skip path. */
function findSkipRouteConfig(bootstrap) {
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const filter of chain.filters ?? []) {
        for (const host of filter.typed_config?.route_config?.virtual_hosts ?? []) {
          const route = host.routes?.find((r) => r.name === `${host.name}:default`);
          if (route) return route.typed_per_filter_config;
        }
      }
    }
  }
  return undefined;
}

/** Paths where two JSON values differ. */
function differences(a, b, path = "") {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || "."}: detour ${JSON.stringify(a)} vs peers ${JSON.stringify(b)}`];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((key) => differences(a[key], b[key], `${path}.${key}`));
}

/** Compares detour's generated ext_proc filter, cluster and skip-route config with the peers' copies. */
export function compareExtProcSettings(detourBootstrap, workload) {
  const detourFilter = structuredClone(findFilter(detourBootstrap));
  const detourCluster = structuredClone(detourBootstrap.static_resources?.clusters?.find((c) => c.typed_extension_protocol_options !== undefined || /ext_proc/.test(c.name)));
  if (detourFilter === undefined || detourCluster === undefined) return { matches: false, differences: ["detour's generated config has no ext_proc filter or cluster"] };
  const peerFilter = extProcFilter({ workload });
  const peerCluster = extProcCluster("127.0.0.1", 0);
  // Names and addresses differ by design.
  for (const cluster of [detourCluster, peerCluster]) {
    delete cluster.name;
    delete cluster.load_assignment;
    delete cluster.type;
  }
  detourFilter.typed_config.grpc_service.envoy_grpc.cluster_name = EXT_PROC_CLUSTER;
  const found = [
    ...differences(detourFilter, peerFilter, "filter"),
    ...differences(detourCluster, peerCluster, "cluster"),
    // How the skip route turns ext_proc off decides what the skip path costs Envoy.
    ...differences(findSkipRouteConfig(detourBootstrap), SKIP_PER_FILTER_CONFIG, "skipRoute"),
  ];
  return { matches: found.length === 0, differences: found };
}
