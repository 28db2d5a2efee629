import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEnvoy, validateEnvoyConfig, type EnvoyProcess } from "@detour/cli/envoy";
import { envoyBin } from "./support/envoy.js";
import { startUpstream, type Upstream } from "./support/upstream.js";

function minimalConfig(upstreamPort: number): string {
  return `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: ingress
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: upstream }
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
  clusters:
  - name: upstream
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${upstreamPort} } } }
`;
}

describe("real Envoy toolchain", () => {
  let upstream: Upstream;
  let envoy: EnvoyProcess;

  beforeAll(async () => {
    upstream = await startUpstream("hello", "v1");
    envoy = await startEnvoy({ envoyBin: await envoyBin(), config: minimalConfig(upstream.port) });
  });
  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
  });

  it("proxies an HTTP request from a loopback listener to a Node upstream", async () => {
    const response = await fetch(`http://127.0.0.1:${envoy.listenerPort("ingress")}/ping`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { service: string; url: string; headers: Record<string, string> };
    expect(body.service).toBe("hello");
    expect(body.url).toBe("/ping");
    // Only a real Envoy adds this header on the way through.
    expect(body.headers["x-envoy-expected-rq-timeout-ms"]).toBeDefined();
    expect((await envoy.stats()).get("cluster.upstream.upstream_rq_200")).toBe(1);
  });

  it("accepts a valid bootstrap in --mode validate", async () => {
    const result = await validateEnvoyConfig(await envoyBin(), minimalConfig(upstream.port));
    expect(result.ok, result.output).toBe(true);
  });

  it("rejects a broken bootstrap in --mode validate", async () => {
    const broken = minimalConfig(upstream.port).replace("cluster: upstream }", "cluster: upstream, no_such_field: 1 }");
    const result = await validateEnvoyConfig(await envoyBin(), broken);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/no_such_field/);
  });
});
