// The scenarios of one run, as data: which stack, which request headers, and which
// cluster must serve the requests (checked against Envoy's own counters in every repetition).

/** Services and versions of the benchmark topology (the demo's shape); baseline v1 everywhere. */
export const TOPOLOGY = {
  pricing: { baseline: "v1", versions: ["v1", "v2"] },
  cart: { baseline: "v1", versions: ["v1", "pr-7"] },
  catalog: { baseline: "v1", versions: ["v1", "v2"] },
};

/** Every request is to `pricing` (as a sidecar sees a peer call) with typical headers. */
export const HOST = "pricing";
export const PATH = "/quote";
const COMMON_HEADERS = {
  Host: HOST,
  "User-Agent": "detour-bench",
  Accept: "application/json",
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
};

/**
 * The override as an app instrumented with @detour/otel or the middleware sends it: both
 * carriers, canonical, so detour has nothing to normalize and the work compared is the same
 * routing decision. The peers read only x-detour.
 */
const OVERRIDE_HEADERS = { ...COMMON_HEADERS, "x-detour": "pricing=v2", baggage: "detour=pricing%3Dv2" };

export const SCENARIOS = [
  { id: "plain", n: 1, stack: "plain", title: "plain Envoy, no filter", headers: COMMON_HEADERS, expect: "pricing@v1" },
  { id: "detour-skip", n: 2, stack: "detour", title: "detour sidecar, no override (skip path)", headers: COMMON_HEADERS, expect: "pricing@v1", extProcExpected: false },
  { id: "detour-override", n: 3, stack: "detour", title: "detour sidecar, override -> v2", headers: OVERRIDE_HEADERS, expect: "pricing@v2", extProcExpected: true },
  { id: "lua-override", n: 4, stack: "lua", title: "Lua filter, override -> v2", headers: OVERRIDE_HEADERS, expect: "pricing@v2" },
  { id: "go-override", n: 5, stack: "go", title: "Go ext_proc, override -> v2", headers: OVERRIDE_HEADERS, expect: "pricing@v2", extProcExpected: true },
  // The Go peer's stack without an override isolates what the sidecar
  // config shape costs Envoy on the skip path (same config as 2, no detour involved).
  { id: "go-skip", n: "5s", stack: "go", title: "Go ext_proc sidecar shape, no override (skip path)", headers: COMMON_HEADERS, expect: "pricing@v1", extProcExpected: false },
  { id: "rust-override", n: 6, stack: "rust", title: "Rust tonic ext_proc, override -> v2", headers: OVERRIDE_HEADERS, expect: "pricing@v2", extProcExpected: true, optional: true },
];

/** Scenario ids the ratios are taken against. */
export const BASELINE_ID = "plain";
export const GO_PEER_ID = "go-override";

/** The speed and memory targets, checked and printed (never asserted: a miss is a finding, not a crash). */
export const TARGETS = {
  skipVsPlain: { scenario: "detour-skip", against: BASELINE_ID, minRps: 0.97, maxP99: 1.05 },
  overrideVsGo: { scenario: "detour-override", against: GO_PEER_ID, minRps: 1.0, maxP99: 1.1 },
  extProcRssMiB: { scenarios: ["detour-skip", "detour-override"], max: 100 },
  codecVsOtel: { min: 2 },
  expressOverhead: { maxOverhead: 0.05 },
  lightInstall: { maxOverhead: 0.05 },
};
