// The Istio shape of the skip-path ablation (bench/skip-ablation.mjs, istio-* variants): one
// outbound sidecar for the calling workload as istiod would write it (test/istio/support/
// istio-proxy.mjs builds it; the same code the Istio tests run), with or without the objects
// `detour kubernetes` renders for the benchmark topology.
import { applyEnvoyFilters, bootstrapOf, istioSidecarProxy, pointClusterAt } from "../../test/istio/support/istio-proxy.mjs";
import { BENCH_WORKLOAD, detourDocument } from "./detour-stack.mjs";

const NAMESPACE = "bench";
const CLUSTER_DOMAIN = "cluster.local";
const PORT = 8080;
export const ISTIO_LISTENER = "sidecar";

/**
 * Rewrites the sidecar EnvoyFilter's ext_proc filter from the shipped shape (the composite
 * filter creates ext_proc only when a carrier is there) into the one tried first: the ext_proc
 * filter itself under ExtensionWithMatcher with SkipFilter unless a carrier is there, which
 * still creates the filter on every request.
 */
function asSkipFilter(filter) {
  const wrapper = filter.typed_config;
  const [matcher] = wrapper.xds_matcher.matcher_list.matchers;
  return {
    name: filter.name,
    typed_config: {
      "@type": wrapper["@type"],
      extension_config: matcher.on_match.action.typed_config.typed_config,
      xds_matcher: {
        matcher_list: {
          matchers: [
            {
              predicate: { not_matcher: matcher.predicate },
              on_match: { action: { name: "skip", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter" } } },
            },
          ],
        },
      },
    },
  };
}

/**
 * `shape`: plain (Istio's default routes), routes (+ detour's VirtualServices and
 * DestinationRules), detour (+ detour's EnvoyFilters, as rendered), skipfilter (detour with the
 * ext_proc filter under a SkipFilter matcher instead of the composite filter). The ext_proc cluster points at `extProc` ({ host, port }).
 */
export function istioVariantBootstrap(detour, shape, topology, endpoints, extProc) {
  const config = detour.extProc.parseConfig(detourDocument(topology, endpoints), "istio-shape.yaml");
  const objects = detour.cli.kubernetesManifests(config, detour.cli.kubernetesOptions({ namespace: NAMESPACE, clusterDomain: CLUSTER_DOMAIN }), "bench").objects;
  const withRoutes = shape !== "plain";
  const pods = [];
  for (const [service, spec] of Object.entries(topology)) {
    for (const version of spec.versions) {
      const { host, port } = endpoints[`${service}@${version}`];
      pods.push({ fqdn: `${service}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}`, labels: { app: service, version }, host, port });
    }
  }
  let proxy = istioSidecarProxy({
    name: ISTIO_LISTENER,
    statPrefix: "outbound_0.0.0.0_8080",
    port: PORT,
    namespace: NAMESPACE,
    clusterDomain: CLUSTER_DOMAIN,
    hosts: Object.keys(topology).map((service) => `${service}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}`),
    virtualServices: withRoutes ? objects.filter((object) => object.kind === "VirtualService") : [],
    destinationRules: withRoutes ? objects.filter((object) => object.kind === "DestinationRule") : [],
    pods,
  });
  if (shape === "detour" || shape === "skipfilter") {
    let filters = objects.filter((object) => object.kind === "EnvoyFilter");
    if (shape === "skipfilter") {
      filters = structuredClone(filters);
      for (const patch of filters.flatMap((filter) => filter.spec.configPatches)) {
        if (patch.applyTo === "HTTP_FILTER" && patch.patch.value.typed_config.xds_matcher) patch.patch.value = asSkipFilter(patch.patch.value);
      }
    }
    const [service, version] = BENCH_WORKLOAD.split("/");
    proxy = applyEnvoyFilters(proxy, filters, { context: "SIDECAR_OUTBOUND", namespace: NAMESPACE, labels: { app: service, version }, rootNamespace: "istio-system" });
  }
  const bootstrap = pointClusterAt(bootstrapOf([proxy], { runtimeValues: { "envoy.reloadable_features.ext_proc_graceful_grpc_close": "true" } }), "detour_ext_proc", extProc.host, extProc.port);
  return { bootstrap, listener: ISTIO_LISTENER };
}
