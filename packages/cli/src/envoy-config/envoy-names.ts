/*
 * Names the generated Envoy config uses, in one place: tests, the CLI and the docs refer to
 * listeners, clusters and stats by these.
 */

/** The HTTP filter name; per-route config (`typed_per_filter_config`) is keyed by it. */
export const EXT_PROC_FILTER_NAME = "envoy.filters.http.ext_proc";

/**
 * Per-route config that keeps the ext_proc filter off a route (the skip path). It is Envoy's
 * generic route-level `FilterConfig{disabled}`, not the filter's own `ExtProcPerRoute{disabled}`:
 * the filter manager resolves the route before it builds the filter chain and leaves a disabled
 * filter out entirely, whereas `ExtProcPerRoute` still creates the ext_proc filter on every
 * request only for it to do nothing: about 30 µs of Envoy CPU per request, a third on top of
 * plain Envoy's ~85 µs, against ~2 µs for FilterConfig (bench/skip-ablation.mjs, bench/README.md).
 * A filter chain is built once per request, so a request that ext_proc re-routes
 * (clear_route_cache) keeps the filters of the route it started on.
 */
export const EXT_PROC_DISABLED_ON_ROUTE = {
  [EXT_PROC_FILTER_NAME]: { "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", disabled: true },
} as const;

/** Cluster of the detour ext_proc server. */
export const EXT_PROC_CLUSTER = "detour_ext_proc";

/**
 * Graceful half-close of ext_proc streams instead of RST_STREAM (opt-in since Envoy 1.34,
 * envoyproxy/envoy#38661). Without it every request costs a stream reset, and Node's HTTP/2
 * server (nghttp2's rapid-reset limiter: burst 1000, then 33/s) answers a busy sidecar with GOAWAY.
 */
export const GRACEFUL_CLOSE_RUNTIME_KEY = "envoy.reloadable_features.ext_proc_graceful_grpc_close";

/** Envoy's default per-message timeout is 200 ms, too short for a cold gRPC connection (envoyproxy/envoy#34856). */
export const DEFAULT_MESSAGE_TIMEOUT_MS = 1_000;

/**
 * Streams per ext_proc HTTP/2 connection before Envoy opens a fresh one. Kept well under
 * nghttp2's reset burst (1000) so that even without graceful close a connection is recycled
 * before the server's rapid-reset limiter can trip.
 */
export const EXT_PROC_MAX_REQUESTS_PER_CONNECTION = 500;

/**
 * One round trip per request: only request headers go to ext_proc. The response-header default
 * (SEND) would double the round trips, and detour never needs bodies or trailers.
 */
export const HEADERS_ONLY_PROCESSING_MODE = {
  request_header_mode: "SEND",
  response_header_mode: "SKIP",
  request_body_mode: "NONE",
  response_body_mode: "NONE",
  request_trailer_mode: "SKIP",
  response_trailer_mode: "SKIP",
} as const;

/**
 * Retries of an ext_proc stream that never got an answer: connection refused or reset, a stream
 * refused by a server's GOAWAY, UNAVAILABLE. With several servers in the ext_proc cluster the
 * retry goes to another host (previous_hosts), so a rolling restart of the servers costs no
 * override (test/reliability/graceful-shutdown.test.ts: ~300 overrides fell back per round
 * without it, none with it). With one server down it adds a few ms of backoff before failing
 * open. A repeated request_headers message is harmless: answers are pure decisions.
 */
export const EXT_PROC_RETRY_POLICY = {
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
} as const;

/** `outbound:cart/pr-7`: the sidecar listener of one workload. */
export function outboundListenerName(workload: string): string {
  return `outbound:${workload}`;
}

/** `pricing@v2`: the cluster of one version of a service. */
export function versionClusterName(service: string, version: string): string {
  return `${service}@${version}`;
}

/**
 * `outbound_cart_pr-7`: the HCM stat prefix of a workload's listener (so ext_proc stats are
 * `http.outbound_cart_pr-7.ext_proc.streams_started`). Dots would split the stat name.
 */
export function outboundStatPrefix(workload: string): string {
  return `outbound_${workload.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
