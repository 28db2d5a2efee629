// The Istio EnvoyFilters `detour kubernetes` renders, applied (with Istio's patch semantics,
// support/istio-proxy.mjs) to Envoy configs shaped like an Istio sidecar's outbound listener whose
// routes come from the rendered VirtualServices and DestinationRules; checked by
// `envoy --mode validate`, then run: real Envoy, the real ext_proc server reading the rendered
// ConfigMap, one upstream per service version. Cases: sidecar-cases.yaml.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXT_PROC_FILTER_NAME } from "@detour/cli";
import { validateEnvoyConfig } from "@detour/cli/envoy";
import { loadConfigFile } from "@detour/ext-proc";
import { kubernetesManifests } from "../../packages/cli/src/kubernetes/kubernetes-manifests.js";
import { kubernetesOptions } from "../../packages/cli/src/kubernetes/kubernetes-options.js";
import { envoyBin } from "../support/envoy.js";
import { metricValue } from "../support/prometheus-text.js";
import { caseHeaders, expectRoutingOutcome, type RoutingCase } from "../support/routing-cases.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";
import { configMapServerConfig, istioBootstrap, sidecarListener, sidecarStatPrefix, startIstioStack, type IstioRenderInput, type IstioStack } from "./support/istio-stack.js";

const topology = loadConfigFile(fileURLToPath(new URL("../../examples/detour.yaml", import.meta.url)));
const options = kubernetesOptions({ namespace: "shop" });
const { objects } = kubernetesManifests(topology, options, "istio-sidecar.test.ts");
const input: IstioRenderInput = {
  topology,
  objects,
  namespace: "shop",
  clusterDomain: options.clusterDomain,
  appLabel: options.appLabel,
  versionLabel: options.versionLabel,
  workloads: ["frontend/v1", "cart/v1", "cart/pr-7"],
};
const cases = parse(readFileSync(new URL("./sidecar-cases.yaml", import.meta.url), "utf8")) as RoutingCase[];

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- Envoy config trees, walked by path

function httpFilters(bootstrap: Json, listener: string): Json[] {
  return bootstrap.static_resources.listeners.find((l: Json) => l.name === listener).filter_chains[0].filters[0].typed_config.http_filters;
}

describe("detour's EnvoyFilters on an Istio-shaped sidecar (envoy --mode validate)", () => {
  const bootstrap = istioBootstrap(input, []) as Json;

  it("inserts ext_proc before the router of every sidecar, created only for requests with a carrier unless the workload injects", () => {
    const names = (listener: string) => httpFilters(bootstrap, listener).map((filter) => filter.name);
    for (const workload of input.workloads) {
      expect(names(sidecarListener(workload))).toEqual(["envoy.filters.http.grpc_stats", "envoy.filters.http.fault", "envoy.filters.http.cors", EXT_PROC_FILTER_NAME, "envoy.filters.http.router"]);
    }
    const type = (workload: string) => httpFilters(bootstrap, sidecarListener(workload))[3]!.typed_config["@type"];
    expect(type("frontend/v1")).toBe("type.googleapis.com/envoy.extensions.common.matching.v3.ExtensionWithMatcher");
    expect(type("cart/pr-7")).toBe("type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor");
    expect(bootstrap.static_resources.clusters.filter((cluster: Json) => cluster.name === "detour_ext_proc")).toHaveLength(1);
  });

  it("passes envoy --mode validate", async () => {
    const result = await validateEnvoyConfig(await envoyBin(), stringify(bootstrap, { aliasDuplicateObjects: false }));
    expect(result.ok, result.output).toBe(true);
  });

  it("a broken patch does not (the check can fail)", async () => {
    const broken = structuredClone(bootstrap);
    const matcher = httpFilters(broken, sidecarListener("frontend/v1"))[3]!.typed_config.xds_matcher.matcher_list.matchers[0].predicate.or_matcher.predicate[0].single_predicate;
    matcher.value_match = { prefix: "" };
    const result = await validateEnvoyConfig(await envoyBin(), stringify(broken, { aliasDuplicateObjects: false }));
    expect(result.ok).toBe(false);
    expect(result.output).toContain("value length must be at least 1");
  });
});

describe("requests through Istio-shaped sidecars with detour's EnvoyFilters, VirtualServices and DestinationRules", () => {
  let stack: IstioStack;
  beforeAll(async () => {
    stack = await startIstioStack(input, configMapServerConfig(objects));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const streams = async (workload: string) => (await stack.envoy.stats()).get(`http.${sidecarStatPrefix(workload)}.ext_proc.streams_started`) ?? 0;
  const processed = async () => metricValue(await stack.server.metrics(), "detour_ext_proc_requests_total");

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const via = testCase.via!;
    const headers = caseHeaders(testCase);
    const streamsBefore = await streams(via);
    const processedBefore = await processed();

    const response = await sendThroughSidecar(stack.envoy.listenerPort(sidecarListener(via)), testCase.authority, { headers, path: "/quote" });

    const expected = testCase.expect;
    expectRoutingOutcome(response, expected);
    if (expected.extProc !== undefined) {
      // Counted on both sides: Envoy's streams_started and the server's own request counter.
      expect((await streams(via)) - streamsBefore, `ext_proc streams for ${via}`).toBe(expected.extProc === "called" ? 1 : 0);
      expect((await processed()) - processedBefore, "requests the server processed").toBe(expected.extProc === "called" ? 1 : 0);
    }
  });

  it("never had Envoy reject a mutation or fail a stream", async () => {
    let problems = 0;
    for (const [name, value] of await stack.envoy.stats()) {
      if (/ext_proc\.(rejected_header_mutations|clear_route_cache_ignored|streams_failed|failure_mode_allowed)$/.test(name)) problems += value;
    }
    expect(problems).toBe(0);
  });
});
