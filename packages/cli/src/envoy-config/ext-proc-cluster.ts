import { EXT_PROC_CLUSTER, EXT_PROC_MAX_REQUESTS_PER_CONNECTION } from "./envoy-names.js";
import { staticCluster } from "./static-cluster.js";

type Json = Record<string, unknown>;

/**
 * The cluster of the detour ext_proc server (`detour_ext_proc`) at `address` (host:port): HTTP/2
 * (gRPC), connections recycled after EXT_PROC_MAX_REQUESTS_PER_CONNECTION streams, circuit
 * breakers opened wide. Every generated Envoy config uses this one: the sidecar and edge
 * bootstraps and the Istio EnvoyFilters.
 */
export function extProcCluster(address: string): Json {
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
