import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EnvoyProcess } from "@detour/cli";
import { createExtProcServer, type ExtProcServer } from "@detour/ext-proc";
import { extProcStreamsStarted, startSidecars, startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";

// routing.test.ts runs every case on the default transport (grpc-js); this proves the opt-in
// `server.transport: node-http2` carries a routed request through real Envoy the same way.
describe("ext_proc routing through real Envoy on transport node-http2", () => {
  let upstreams: Upstreams;
  let server: ExtProcServer;
  let envoy: EnvoyProcess;

  beforeAll(async () => {
    upstreams = await startTopologyUpstreams();
    server = createExtProcServer({ ...upstreams.config, server: { ...upstreams.config.server, transport: "node-http2" } });
    envoy = await startSidecars(upstreams.config, (await server.start()).grpcPort);
  });
  afterAll(async () => {
    await envoy?.stop();
    await server?.stop({ graceMs: 1_000 });
    await upstreams?.close();
  });

  it("routes an override to its version, through one ext_proc stream, none failed", async () => {
    const before = await extProcStreamsStarted(envoy, "frontend/v1");
    const routed = await sendThroughSidecar(envoy.listenerPort("outbound:frontend/v1"), "pricing", { headers: { "x-detour": "pricing=v2" }, path: "/quote" });
    expect(routed.status, routed.text).toBe(200);
    expect(routed.upstream?.version).toBe("v2");
    expect(routed.upstream?.headers["baggage"]).toBe("detour=pricing%3Dv2");
    expect((await extProcStreamsStarted(envoy, "frontend/v1")) - before).toBe(1);
    let failed = 0;
    for (const [name, value] of await envoy.stats()) if (name.endsWith("ext_proc.streams_failed")) failed += value;
    expect(failed).toBe(0);
  });
});
