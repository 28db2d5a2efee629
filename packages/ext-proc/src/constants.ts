/**
 * Names and limits of the ext_proc server in one place, each with the reason for its value.
 * Header names of the wire format itself live in @detour/core.
 */

/**
 * Stream initial-metadata key naming the calling workload (`service/version`). Envoy sets it per
 * listener (`grpc_service.initial_metadata`), so the app cannot forge it: it never sees it.
 */
export const WORKLOAD_METADATA = "x-detour-workload";

/** Stream initial-metadata key naming the filter's role: `outbound` (sidecar) or `edge` (front door). */
export const ROLE_METADATA = "x-detour-role";

/** Envoy's pseudo-header carrying the destination authority of the hop. */
export const AUTHORITY_HEADER = ":authority";

/** Status of a `miss: reject` answer: the version asked for is not deployed (yet), try again later. */
export const REJECT_STATUS = 503;

/**
 * How long SIGTERM waits for in-flight ext_proc streams before cancelling them. Each stream is one
 * HTTP request whose headers Envoy waits on for at most `message_timeout` (1 s in the generated
 * configs), so 5 s covers every stream that can still complete.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

/**
 * Config file changes arrive as several fs events (truncate, write, rename by editors); reloading
 * once after they settle avoids reading a half-written file.
 */
export const RELOAD_DEBOUNCE_MS = 150;

/**
 * Histogram buckets for processing latency in seconds: the decision itself takes microseconds,
 * so the buckets resolve 25 µs … 50 ms, where anything above 1 ms already means trouble.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
];

/*
 * Edge trust (docs/security.md).
 */

/**
 * Internal marker the edge ext_proc sets on every request it answered. Envoy strips any copy a
 * client sends before routing (early_header_mutation), so it cannot be forged; the edge routes
 * forward a request as ext_proc left it only when the marker is there, and otherwise (ext_proc
 * down, failed open) remove every override carrier, baggage included.
 */
export const EDGE_MARKER_HEADER = "x-detour-edge";
export const EDGE_MARKER_VALUE = "checked";

/** Status of an `edge.onInvalid: reject` answer to a bad token: the credential was not accepted. */
export const TOKEN_REJECT_STATUS = 401;

/**
 * Longest token read, in bytes: defined in @detour/core, because @detour/otel must not forward
 * what the edge would refuse. Anything longer is refused before any base64 or JSON work.
 */
export { MAX_TOKEN_BYTES } from "@detour/core";

/**
 * Verified tokens remembered (by their full text, until they expire), so a client reusing its
 * token costs a map lookup instead of a signature check. Bounded so random tokens cannot grow
 * memory; the least recently used entry goes first.
 */
export const TOKEN_CACHE_LIMIT = 10_000;

/** Envoy's key of the attribute Struct in ProcessingRequest.attributes (ext_proc filter name). */
export const EXT_PROC_ATTRIBUTES_KEY = "envoy.filters.http.ext_proc";

/** The CEL attribute the edge asks Envoy for: the downstream peer's `ip:port`. */
export const SOURCE_ADDRESS_ATTRIBUTE = "source.address";

/*
 * Kubernetes discovery (config `kubernetes:`, docs/kubernetes.md). Annotation names are part of
 * detour's contract with the workloads a team deploys; the CLI writes and documents the same ones.
 */

/** Service annotation: the baseline version of the service its name is (`detour.dev/baseline: v1`). */
export const BASELINE_ANNOTATION = "detour.dev/baseline";
/** Service annotation: the miss policy (`fallback` or `reject`) of a discovered service. */
export const MISS_ANNOTATION = "detour.dev/miss";
/** Pod template (or Pod) annotation: the override the workload injects (`detour.dev/inject: "*=pr-7"`). */
export const INJECT_ANNOTATION = "detour.dev/inject";
/** Deployment annotation: the moment (RFC 3339) after which its version is no longer routable. */
export const EXPIRES_AT_ANNOTATION = "detour.dev/expires-at";
/** Deployment annotation: how long after the Deployment's creation its version stays routable (`90s`, `30m`, `72h`, `7d`). */
export const TTL_ANNOTATION = "detour.dev/ttl";

/**
 * How long topology changes settle before the routing table is rebuilt. A rollout or the initial
 * list delivers many events at once; one rebuild for the burst, still far inside the 1 s a new
 * version may take to become routable. When a rebuild takes longer than this (thousands of
 * pods), the next waits as long as the last one took.
 */
export const TOPOLOGY_SETTLE_MS = 20;

/**
 * Restart delays of a failed list or watch: doubling from the first to the last. The last is
 * short because a watch down means the topology is stale; a restarted API server is seen again
 * within this many milliseconds.
 */
export const WATCH_RETRY_FIRST_MS = 500;
export const WATCH_RETRY_MAX_MS = 4_000;

/**
 * Distinct (service, version) pairs whose requested/applied counts the status endpoint keeps.
 * Requested versions come from requests, so the table is bounded; pairs beyond it are not counted.
 */
export const COUNTED_VERSIONS_LIMIT = 10_000;

/** Problems (conflicts, unreadable annotations) the status endpoint lists; the rest are counted only. */
export const LISTED_PROBLEMS_LIMIT = 200;
