/*
 * Small pieces of HTTP connection manager config that several generated Envoy configs share.
 */

type Json = Record<string, unknown>;

/** The terminal HTTP filter. */
export function routerFilter(): Json {
  return { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };
}

/**
 * An HCM `early_header_mutation_extensions` entry removing `names`: it runs before routing and
 * before every HTTP filter, so a header only detour may set (x-detour-route, the edge marker)
 * can never select a route, even while ext_proc is down.
 */
export function earlyHeaderRemoval(names: readonly string[]): Json {
  return {
    name: "envoy.http.early_header_mutation.header_mutation",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
      mutations: names.map((name) => ({ remove: name })),
    },
  };
}
