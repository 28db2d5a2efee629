import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { EnvoyProcess } from "@detour/cli/envoy";
import type { DetourConfig } from "@detour/ext-proc";
import { writeConfigMapVolume } from "../support/config-map-volume.js";
import { startSidecars, startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { startExtProcProcess, type ExtProcProcess } from "../support/ext-proc-process.js";
import { metricValue } from "../support/prometheus-text.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";
import { waitFor } from "../support/wait-for.js";

// The server binary reading its config from a directory laid out and updated as kubelet does a
// ConfigMap volume (test/support/config-map-volume.ts), behind real Envoy: an edit of the
// ConfigMap must change routing without a restart, and a bad edit must keep the last good config.
describe("detour-ext-proc with its config in a ConfigMap volume", () => {
  let upstreams: Upstreams;
  let envoy: EnvoyProcess | undefined;
  let server: ExtProcProcess | undefined;
  let dir: string;
  let volume: string;
  let config: DetourConfig;

  const publish = (text: string) => expect(writeConfigMapVolume(volume, { "detour.yaml": text })).toBe(true);
  const reloads = async (result: "success" | "failure") => metricValue(await server!.metrics(), "detour_ext_proc_config_reloads_total", { result });
  const answeredBy = async (override: string) => {
    const response = await sendThroughSidecar(envoy!.listenerPort("outbound:frontend/v1"), "pricing", { headers: { "x-detour": override } });
    return response.status === 200 ? response.upstream?.version : `status ${response.status}`;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-config-map-"));
    volume = join(dir, "etc-detour");
    upstreams = await startTopologyUpstreams();
    config = { ...upstreams.config, server: { ...upstreams.config.server, listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "info" } };
    publish(stringify(config));
    server = await startExtProcProcess(join(volume, "detour.yaml"));
    envoy = await startSidecars(config, server.grpcPort);
  });
  afterAll(async () => {
    await envoy?.stop();
    await server?.kill();
    await upstreams?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies each ConfigMap update (a ..data swap) to routing, without a restart", async () => {
    expect(await answeredBy("pricing=v9")).toBe("v1");
    const successes = await reloads("success");
    const rejecting = { ...config, services: { ...config.services, pricing: { ...config.services.pricing!, miss: "reject" as const } } };
    publish(stringify(rejecting));
    await waitFor(async () => (await answeredBy("pricing=v9")) === "status 503", { what: "the update's miss policy to route" });
    expect(await reloads("success")).toBe(successes + 1);

    publish(stringify(config));
    await waitFor(async () => (await answeredBy("pricing=v9")) === "v1", { what: "the second update to route" });
    expect(await reloads("success")).toBe(successes + 2);
  });

  it("keeps the last good config when an update is invalid, and takes the next good one", async () => {
    const failures = await reloads("failure");
    publish(stringify(config).replace("baseline: v1", "baseline: v0"));
    const warning = await server!.waitForLog((line) => line.msg === "config reload rejected; keeping the last good config" && String(line.problem).includes("v0"), "the rejection");
    expect(String(warning.problem)).toMatch(/services\.\w+\.baseline: baseline 'v0'/);
    expect(await reloads("failure")).toBe(failures + 1);
    expect(await answeredBy("pricing=v2")).toBe("v2");

    const rejecting = { ...config, services: { ...config.services, pricing: { ...config.services.pricing!, miss: "reject" as const } } };
    publish(stringify(rejecting));
    await waitFor(async () => (await answeredBy("pricing=v9")) === "status 503", { what: "the good update after a bad one" });
  });
});
