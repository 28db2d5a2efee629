#!/usr/bin/env node
// Skip-path ablation (bench/README.md, "Skip-path ablation"): what each piece of detour's sidecar
// config shape costs Envoy on a request that carries no override. It starts plain Envoy, plain
// Envoy plus one piece at a time, detour's previous and current shapes, and runs wrk against
// them interleaved (round-robin, order rotated each round) against the Go upstream. It prints
// Envoy CPU per request from /proc (the number that matters: far less sensitive to other load
// on the machine than throughput) and rps, both as ratios against plain Envoy of the same run.
// The override path of both detour shapes is measured too (through the Go ext_proc peer, so the
// ext_proc server is not what is compared), to show a skip-path change does not slow it down.
//
// The istio-* variants do the same for the Istio shape: a sidecar as istiod writes it, without and
// with the objects `detour kubernetes` renders (--reference istio-plain takes the ratios against
// the Istio sidecar without detour).
//
//   flock /tmp/detour-bench.lock node bench/skip-ablation.mjs [--seconds 4] [--rounds 3] [--only a,b] [--reference id]
import { parseArgs } from "node:util";
import { benchTools } from "./harness/bench-tools.mjs";
import { startChild, stopAll } from "./harness/child-processes.mjs";
import { BENCH_WORKLOAD, detourDocument, loadDetour, startDetourServer } from "./harness/detour-stack.mjs";
import { clusterName, extProcCluster, extProcFilter, LISTENER } from "./harness/envoy-configs.mjs";
import { startEnvoy } from "./harness/envoy-runner.mjs";
import { probe } from "./harness/load-runner.mjs";
import { sampleProcesses } from "./harness/proc-sampler.mjs";
import { PATH, SCENARIOS, TOPOLOGY } from "./harness/scenarios.mjs";
import { startUpstream, topologyFlag } from "./harness/stacks.mjs";
import { runWrk } from "./harness/wrk-runner.mjs";
import { istioVariantBootstrap } from "./harness/istio-shape.mjs";
import { wholeNumberOption } from "./harness/cli-options.mjs";

const ROUTE_HEADER = "x-detour-route";
const EXT_PROC = "envoy.filters.http.ext_proc";
const SKIP_HEADERS = SCENARIOS.find((s) => s.id === "plain").headers;
const OVERRIDE_HEADERS = SCENARIOS.find((s) => s.id === "detour-override").headers;
const CPUS = { load: "0", upstream: "0", sut: "1", extProc: "1" };

/** Per-route ways to keep ext_proc off the default route. */
const OFF = {
  // The ext_proc filter's own per-route config: the filter is still created for every request.
  extProcPerRoute: { [EXT_PROC]: { "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute", disabled: true } },
  // The route's generic filter switch: the filter manager does not create the filter at all.
  filterConfig: { [EXT_PROC]: { "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", disabled: true } },
};

/**
 * A bootstrap assembled from the pieces of detour's sidecar shape:
 * early (early_header_mutation removing x-detour-route), removeAt ("config": route_config
 * request_headers_to_remove; "routes": only on routes that follow an ext_proc call),
 * routes ("plain": one default route; "detour": version routes, carrier routes, default),
 * off (how ext_proc is kept off the default route; undefined = no ext_proc filter).
 */
function shape({ early = false, removeAt, routes = "plain", off }, endpoints, extProc) {
  const removeOnRoute = removeAt === "routes" ? { request_headers_to_remove: [ROUTE_HEADER] } : {};
  const perFilter = off === undefined ? {} : { typed_per_filter_config: OFF[off] };
  const hosts = Object.entries(TOPOLOGY).map(([service, spec]) => {
    const baseline = clusterName(service, spec.baseline);
    const list = [];
    if (routes === "detour") {
      for (const version of spec.versions) {
        list.push({ name: `${service}:${version}`, match: { prefix: "/", headers: [{ name: ROUTE_HEADER, string_match: { exact: version } }] }, route: { cluster: clusterName(service, version) }, ...removeOnRoute });
      }
      list.push({ name: `${service}:carrier-0`, match: { prefix: "/", headers: [{ name: "x-detour", present_match: true }] }, route: { cluster: baseline }, ...removeOnRoute });
      list.push({ name: `${service}:carrier-1`, match: { prefix: "/", headers: [{ name: "baggage", string_match: { contains: "detour" } }] }, route: { cluster: baseline }, ...removeOnRoute });
    }
    list.push({ name: `${service}:default`, match: { prefix: "/" }, route: { cluster: baseline }, ...perFilter });
    return { name: service, domains: [service, `${service}.*`], routes: list };
  });
  hosts.push({ name: "unknown-service", domains: ["*"], routes: [{ name: "unknown-service", match: { prefix: "/" }, direct_response: { status: 404 }, ...perFilter }] });
  const clusters = [];
  for (const [service, spec] of Object.entries(TOPOLOGY)) {
    for (const version of spec.versions) {
      const { host, port } = endpoints[clusterName(service, version)];
      clusters.push({ name: clusterName(service, version), type: "STATIC", connect_timeout: "1s", load_assignment: { cluster_name: clusterName(service, version), endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] } });
    }
  }
  if (off !== undefined) clusters.push(extProcCluster(extProc.host, extProc.port));
  const hcm = {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: LISTENER,
    strip_any_host_port: true,
    ...(early
      ? {
          early_header_mutation_extensions: [
            {
              name: "envoy.http.early_header_mutation.header_mutation",
              typed_config: { "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation", mutations: [{ remove: ROUTE_HEADER }] },
            },
          ],
        }
      : {}),
    route_config: { name: LISTENER, ...(removeAt === "config" ? { request_headers_to_remove: [ROUTE_HEADER] } : {}), virtual_hosts: hosts },
    http_filters: [
      ...(off === undefined ? [] : [extProcFilter({ workload: "frontend/v1" })]),
      { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
    ],
  };
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    layered_runtime: { layers: [{ name: "static", static_layer: { "envoy.reloadable_features.ext_proc_graceful_grpc_close": true } }] },
    static_resources: {
      listeners: [{ name: LISTENER, address: { socket_address: { address: "127.0.0.1", port_value: 0 } }, filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }] }],
      clusters,
    },
  };
}

// detour's sidecar shape with ext_proc kept off the skip route by ExtProcPerRoute{disabled}, and by
// the route-level FilterConfig{disabled} (what the generator writes).
const DETOUR_PERROUTE = { early: true, removeAt: "config", routes: "detour", off: "extProcPerRoute" };
const DETOUR_FILTERCONFIG = { early: true, removeAt: "config", routes: "detour", off: "filterConfig" };
// Tried: x-detour-route removed by the routes that follow an ext_proc call instead of the whole
// route table (the skip route then has nothing to remove).
const DETOUR_ROUTE_REMOVE = { ...DETOUR_FILTERCONFIG, removeAt: "routes" };

/** id -> { shape, headers, expect }. The first one is the reference the ratios are taken against. */
const VARIANTS = {
  plain: { shape: {}, headers: SKIP_HEADERS, expect: "pricing@v1", title: "plain Envoy" },
  "+early": { shape: { early: true }, headers: SKIP_HEADERS, expect: "pricing@v1", title: "+ early_header_mutation" },
  "+remove": { shape: { removeAt: "config" }, headers: SKIP_HEADERS, expect: "pricing@v1", title: "+ route_config request_headers_to_remove" },
  "+routes": { shape: { routes: "detour" }, headers: SKIP_HEADERS, expect: "pricing@v1", title: "+ version and carrier routes" },
  "+extproc-perroute": { shape: { off: "extProcPerRoute" }, headers: SKIP_HEADERS, expect: "pricing@v1", title: "+ ext_proc, ExtProcPerRoute{disabled}" },
  "+extproc-filterconfig": { shape: { off: "filterConfig" }, headers: SKIP_HEADERS, expect: "pricing@v1", title: "+ ext_proc, route FilterConfig{disabled}" },
  "detour-perroute": { shape: DETOUR_PERROUTE, headers: SKIP_HEADERS, expect: "pricing@v1", title: "detour shape, ExtProcPerRoute (skip)" },
  "detour-filterconfig": { shape: DETOUR_FILTERCONFIG, headers: SKIP_HEADERS, expect: "pricing@v1", title: "detour shape, FilterConfig (skip)" },
  "detour-route-remove": { shape: DETOUR_ROUTE_REMOVE, headers: SKIP_HEADERS, expect: "pricing@v1", title: "detour shape, FilterConfig, removal on ext_proc routes only (skip)" },
  // What packages/cli's built generator writes (skipped when not built): checks that the
  // modelled FilterConfig shape is what detour ships.
  generated: { generated: true, headers: SKIP_HEADERS, expect: "pricing@v1", title: "detour's generated sidecar (packages/cli/dist, skip)" },
  // The same, next to detour's real ext_proc server on Envoy's CPU (scenario 2 of run.mjs):
  // the skip path never calls it, so any difference is what the idle server costs the CPU.
  "generated-node": { generated: true, detourServer: true, headers: SKIP_HEADERS, expect: "pricing@v1", title: "detour's generated sidecar + detour's server on the CPU (skip)" },
  // The Istio shape (bench/harness/istio-shape.mjs): a sidecar as istiod writes it, without and
  // with detour's objects; compare these with --reference istio-plain.
  "istio-plain": { istio: "plain", headers: SKIP_HEADERS, expect: "pricing@v1", title: "Istio-shaped sidecar, no detour objects" },
  "istio-routes": { istio: "routes", headers: SKIP_HEADERS, expect: "pricing@v1", title: "Istio + detour's VirtualServices/DestinationRules" },
  "istio-detour": { istio: "detour", headers: SKIP_HEADERS, expect: "pricing@v1", title: "Istio + detour's objects and EnvoyFilters, as rendered (skip)" },
  "istio-skipfilter": { istio: "skipfilter", headers: SKIP_HEADERS, expect: "pricing@v1", title: "Istio + detour's objects, ext_proc under a SkipFilter matcher (skip)" },
  "istio-override": { istio: "detour", headers: OVERRIDE_HEADERS, expect: "pricing@v2", title: "Istio + detour's objects and EnvoyFilters, override (Go peer)", extProc: true },
  "override-perroute": { shape: DETOUR_PERROUTE, headers: OVERRIDE_HEADERS, expect: "pricing@v2", title: "detour shape, ExtProcPerRoute, override (Go peer)", extProc: true },
  "override-filterconfig": { shape: DETOUR_FILTERCONFIG, headers: OVERRIDE_HEADERS, expect: "pricing@v2", title: "detour shape, FilterConfig, override (Go peer)", extProc: true },
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function extProcStreams(envoy) {
  let total = 0;
  for (const [name, value] of await envoy.stats()) if (name.endsWith(".ext_proc.streams_started")) total += value;
  return total;
}

const USAGE = `usage: node bench/skip-ablation.mjs [options]
  --seconds N      seconds of load per variant per round (default 4)
  --rounds N       rounds; each runs every variant once, the order rotated (default 3)
  --warmup N       seconds of load per variant before the first round (default 1)
  --connections N  wrk connections (default 32)
  --only LIST      variants to run beside the reference, comma-separated (default all):
                     ${Object.keys(VARIANTS).join(", ")}
  --reference ID   the variant the ratios are taken against (default plain; give istio-plain for the istio-* variants)
  -h, --help       show this help`;

/** The command line, or a usage error (exit 2) for an unknown option or a missing value. */
function parseOptions(config) {
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(`skip-ablation: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

async function main() {
  const { values } = parseOptions({
    options: {
      help: { type: "boolean", short: "h", default: false },
      seconds: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      warmup: { type: "string", default: "1" },
      connections: { type: "string", default: "32" },
      only: { type: "string" },
      reference: { type: "string", default: "plain" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const reference = values.reference;
  const ids = values.only ? [reference, ...values.only.split(",").filter((id) => id !== reference)] : [reference, ...Object.keys(VARIANTS).filter((id) => id !== reference)];
  for (const id of ids) {
    if (!VARIANTS[id]) {
      process.stderr.write(`skip-ablation: unknown variant '${id}'\n${USAGE}\n`);
      process.exit(2);
    }
  }
  // wrk takes whole seconds only.
  const seconds = wholeNumberOption(values, "seconds");
  const rounds = wholeNumberOption(values, "rounds");
  const connections = wholeNumberOption(values, "connections");
  const warmup = wholeNumberOption(values, "warmup", 0);
  const tools = await benchTools({ rust: "skip" });
  const upstream = await startUpstream({ bin: tools.upstream, topology: TOPOLOGY, cpus: CPUS.upstream });
  const peer = startChild("go-extproc", tools["go-extproc"], ["-listen", "127.0.0.1:0", "-topology", topologyFlag(TOPOLOGY)], { cpus: CPUS.extProc });
  const extProc = { host: "127.0.0.1", port: Number((await peer.waitFor(/^listening 127\.0\.0\.1:(\d+)$/m))[1]) };
  const wrk = { wrkBin: tools.wrk, connections, threads: 1, cpus: CPUS.load };

  const generatedIds = ids.filter((id) => VARIANTS[id].generated || VARIANTS[id].istio);
  const detour = generatedIds.length > 0 ? await loadDetour() : undefined;
  if (detour && !detour.available) {
    process.stderr.write(`skipping ${generatedIds.join(", ")}: ${detour.reason}\n`);
    for (const id of generatedIds) ids.splice(ids.indexOf(id), 1);
    if (generatedIds.includes(reference)) throw new Error(`the reference ${reference} needs detour built: ${detour.reason}`);
  }
  /** Bootstrap and listener name of a variant. */
  const configOf = async (variant) => {
    if (variant.istio) return istioVariantBootstrap(detour, variant.istio, TOPOLOGY, upstream.endpoints, extProc);
    if (!variant.generated) return { bootstrap: shape(variant.shape, upstream.endpoints, extProc), listener: LISTENER };
    if (variant.detourServer) {
      const server = await startDetourServer(detour, detourDocument(TOPOLOGY, upstream.endpoints), { cpus: CPUS.extProc });
      return { bootstrap: server.bootstrap, listener: server.listener };
    }
    const config = detour.extProc.parseConfig(detourDocument(TOPOLOGY, upstream.endpoints), "skip-ablation.yaml");
    const bootstrap = detour.cli.envoyBootstrapFromTopology(config, { extProcAddress: `${extProc.host}:${extProc.port}`, workloads: [BENCH_WORKLOAD], listeners: { [BENCH_WORKLOAD]: 0 } });
    return { bootstrap, listener: `outbound:${BENCH_WORKLOAD}` };
  };

  const stacks = {};
  for (const id of ids) {
    const { bootstrap, listener } = await configOf(VARIANTS[id]);
    const envoy = await startEnvoy(`envoy-${id}`, { envoyBin: tools.envoy, concurrency: 1, cpus: CPUS.sut, bootstrap });
    const port = envoy.listenerPort(listener);
    for (let attempt = 0; ; attempt++) {
      const { status, body } = await probe(port, VARIANTS[id].headers);
      if (status === 200 && body.trim() === VARIANTS[id].expect) break;
      if (attempt >= 5) throw new Error(`${id}: expected ${VARIANTS[id].expect}, got ${status} '${body.trim()}'`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stderr.write(`started ${id}\n`);
    stacks[id] = { envoy, port, streamsBefore: await extProcStreams(envoy), requests: 0, samples: [] };
    if (warmup > 0) await runWrk({ ...wrk, url: `http://127.0.0.1:${port}${PATH}`, headers: VARIANTS[id].headers, seconds: warmup });
  }

  for (let round = 0; round < rounds; round++) {
    const order = ids.map((_, i) => ids[(i + round) % ids.length]);
    for (const id of order) {
      const stack = stacks[id];
      const sampler = sampleProcesses({ envoy: stack.envoy.pid });
      const result = await runWrk({ ...wrk, url: `http://127.0.0.1:${stack.port}${PATH}`, headers: VARIANTS[id].headers, seconds });
      const { envoy, machine } = sampler.stop();
      if (result.errors > 0) throw new Error(`${id}: wrk saw ${result.errors} errors`);
      stack.requests += result.requests;
      stack.samples[round] = { rps: result.rps, p99Ms: result.p99Ms, envoyUs: (envoy.cpuSeconds / result.requests) * 1e6, otherCpus: machine.otherCpus };
      process.stderr.write(`round ${round + 1} ${id}: ${Math.round(result.rps)} rps, Envoy ${((envoy.cpuSeconds / result.requests) * 1e6).toFixed(1)} µs/req, other load ${machine.otherCpus.toFixed(2)}\n`);
    }
  }

  // Ratios are taken per round against that round's reference (plain Envoy unless --reference),
  // then the median over rounds: other load on a shared machine moves every variant of a round alike.
  const referenceSamples = stacks[ids[0]].samples;
  const rows = ids.map((id) => {
    const s = stacks[id].samples;
    const ratio = (key) => median(s.map((x, round) => x[key] / referenceSamples[round][key]));
    return {
      id,
      title: VARIANTS[id].title,
      envoyUs: median(s.map((x) => x.envoyUs)),
      deltaUs: median(s.map((x, round) => x.envoyUs - referenceSamples[round].envoyUs)),
      cpuRatio: ratio("envoyUs"),
      rps: median(s.map((x) => x.rps)),
      rpsRatio: ratio("rps"),
      p99Ms: median(s.map((x) => x.p99Ms)),
      p99Ratio: ratio("p99Ms"),
      otherCpus: median(s.map((x) => x.otherCpus)),
    };
  });
  console.log(`\nskip-path ablation: ${rounds} rounds x ${seconds} s, wrk -t1 -c${values.connections}, Envoy --concurrency 1 on CPU 1, wrk + upstream on CPU 0`);
  console.log(`medians over rounds; Δ and ratios per round against that round's ${VARIANTS[ids[0]].title}`);
  console.log("| variant | Envoy µs/req | Δ vs ref µs | CPU vs ref | rps | rps vs ref | p99 ms | p99 vs ref | ext_proc streams | other load |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    const streams = (await extProcStreams(stacks[row.id].envoy)) - stacks[row.id].streamsBefore;
    const wantStreams = VARIANTS[row.id].extProc ? "per request" : "none";
    const streamsOk = VARIANTS[row.id].extProc ? streams >= stacks[row.id].requests : streams === 0;
    console.log(
      `| ${row.title} | ${row.envoyUs.toFixed(1)} | ${row.deltaUs.toFixed(1)} | ${row.cpuRatio.toFixed(2)}× | ${Math.round(row.rps)} | ${row.rpsRatio.toFixed(2)}× | ${row.p99Ms.toFixed(2)} | ${row.p99Ratio.toFixed(2)}× | ${streams}${streamsOk ? "" : ` (want ${wantStreams})`} | ${row.otherCpus.toFixed(2)} |`,
    );
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
