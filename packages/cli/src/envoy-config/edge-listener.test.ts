import { parseConfig, type DetourConfigInput } from "@detour/ext-proc";
import { describe, expect, it } from "vitest";
import { ensureEnvoy } from "../envoy-binary.js";
import { validateEnvoyConfig } from "../envoy-process.js";
import { detourEnvoyBootstrap, detourEnvoyYaml } from "./detour-envoy-bootstrap.js";
import { EDGE_DEFAULT_CHAIN, EDGE_TRUSTED_CHAIN } from "./edge-listener.js";

type Json = Record<string, any>;

const base: DetourConfigInput = {
  services: {
    web: { baseline: "v1", versions: { v1: { endpoint: "127.0.0.1:9001" }, v2: { endpoint: "127.0.0.1:9002" } } },
  },
  aliases: [{ header: "x-override", format: "pairs" }, { baggage: "okteto-divert" }],
  edge: { listen: "0.0.0.0:8443", service: "web" },
};

function edgeOf(input: DetourConfigInput): Json {
  const bootstrap = detourEnvoyBootstrap(parseConfig(input), { sidecarPorts: {} }) as Json;
  return (bootstrap.static_resources.listeners as Json[]).find((listener) => listener.name === "edge")!;
}

const hcmOf = (chain: Json): Json => chain.filters[0].typed_config;
const earlyRemovals = (chain: Json): string[] => hcmOf(chain).early_header_mutation_extensions[0].typed_config.mutations.map((m: Json) => m.remove);
const routes = (chain: Json): Json[] => hcmOf(chain).route_config.virtual_hosts[0].routes;

describe("edge listener (edge trust)", () => {
  it("trusts nobody by default: one chain that removes every plain carrier before routing", () => {
    const edge = edgeOf(base);
    expect(edge.filter_chains.map((chain: Json) => chain.name)).toEqual([EDGE_DEFAULT_CHAIN]);
    const chain = edge.filter_chains[0];
    expect(earlyRemovals(chain)).toEqual(["x-detour-route", "x-detour-edge", "x-detour", "x-override"]);
    expect(hcmOf(chain).forward_client_cert_details).toBeUndefined();
    const extProc = hcmOf(chain).http_filters[0].typed_config;
    expect(extProc.request_attributes).toEqual(["source.address"]);
    expect(extProc.grpc_service.initial_metadata).toEqual([{ key: "x-detour-role", value: "edge" }]);
    expect(hcmOf(chain).route_config.request_headers_to_remove).toEqual(["x-detour-route", "x-detour-edge"]);
  });

  it("forwards as ext_proc left it only with the marker; unanswered carrier requests lose every carrier", () => {
    const list = routes(edgeOf(base).filter_chains[0]);
    expect(list.map((route) => route.name)).toEqual([
      "edge:v1",
      "edge:v2",
      "edge:checked",
      "edge:unchecked-0",
      "edge:unchecked-1",
      "edge:unchecked-2",
      "edge:unchecked-3",
      "edge:unchecked-4",
      "edge:unchecked-5",
      "edge:default",
    ]);
    expect(list[1]!.match.headers).toEqual([
      { name: "x-detour-route", string_match: { exact: "v2" } },
      { name: "x-detour-edge", string_match: { exact: "checked" } },
    ]);
    const unchecked = list.filter((route) => route.name.startsWith("edge:unchecked"));
    for (const route of unchecked) expect(route.request_headers_to_remove).toEqual(["x-detour", "x-detour-token", "x-override", "baggage"]);
    expect(unchecked.map((route) => route.match.headers[0])).toEqual([
      { name: "x-detour", present_match: true },
      { name: "baggage", string_match: { contains: "detour", ignore_case: true } },
      { name: "x-detour-token", present_match: true },
      { name: "x-override", present_match: true },
      { name: "baggage", string_match: { contains: "okteto-divert", ignore_case: true } },
      { name: "cookie", string_match: { contains: "detour_token" } },
    ]);
    const fallback = list.at(-1)!;
    expect(fallback.request_headers_to_remove).toEqual(["x-detour", "x-detour-token", "x-override"]);
    expect(fallback.typed_per_filter_config["envoy.filters.http.ext_proc"].disabled).toBe(true);
  });

  it("gives trusted source ranges their own chain, which keeps plain carriers for ext_proc", () => {
    const edge = edgeOf({ ...base, edge: { ...base.edge, trustedCidrs: ["10.0.0.0/8", "::1"] } });
    expect(edge.filter_chains.map((chain: Json) => chain.name)).toEqual([EDGE_TRUSTED_CHAIN, EDGE_DEFAULT_CHAIN]);
    expect(edge.filter_chains[0].filter_chain_match).toEqual({
      source_prefix_ranges: [
        { address_prefix: "10.0.0.0", prefix_len: 8 },
        { address_prefix: "::1", prefix_len: 128 },
      ],
    });
    expect(earlyRemovals(edge.filter_chains[0])).toEqual(["x-detour-route", "x-detour-edge"]);
    expect(earlyRemovals(edge.filter_chains[1])).toContain("x-detour");
  });

  it("with trusted principals, has Envoy set x-forwarded-client-cert and leaves the check to ext_proc", () => {
    const edge = edgeOf({ ...base, edge: { ...base.edge, trustedPrincipals: ["spiffe://corp/ci"] } });
    const hcm = hcmOf(edge.filter_chains[0]);
    expect(hcm.forward_client_cert_details).toBe("SANITIZE_SET");
    expect(hcm.set_current_client_cert_details).toEqual({ uri: true, dns: true });
    expect(earlyRemovals(edge.filter_chains[0])).toEqual(["x-detour-route", "x-detour-edge"]);
  });

  it("adds a route for the opt-in token query parameter and drops the cookie matcher when cookies are off", () => {
    const edge = edgeOf({ ...base, edge: { ...base.edge, tokens: { keys: [{ secretFile: "s" }], cookie: false, queryParameter: "detour_token" } } });
    const list = routes(edge.filter_chains[0]);
    expect(list.find((route) => route.name === "edge:unchecked-query")!.match.query_parameters).toEqual([{ name: "detour_token", present_match: true }]);
    expect(list.some((route) => route.match.headers?.[0]?.name === "cookie")).toBe(false);
  });

  it("is accepted by envoy --mode validate (default, trusted ranges, principals, query tokens)", async () => {
    const bin = await ensureEnvoy();
    for (const edge of [
      base.edge,
      { ...base.edge, trustedCidrs: ["127.0.0.0/8", "::1/128"] },
      { ...base.edge, trustedPrincipals: ["spiffe://corp/ci"], tokens: { keys: [{ secretFile: "s" }], queryParameter: "t" } },
    ]) {
      const result = await validateEnvoyConfig(bin, detourEnvoyYaml(parseConfig({ ...base, edge }), { sidecarPorts: {} }));
      expect(result.ok, result.output).toBe(true);
    }
  }, 60_000);
});
