import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { EnvoyProcess } from "@detour/cli/envoy";
import type { DetourConfig } from "@detour/ext-proc";
import { startSidecars, startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { runExtProcToExit, startExtProcProcess, type ExtProcProcess } from "../support/ext-proc-process.js";
import { grpcHealth } from "../support/grpc-health.js";
import { metricValue } from "../support/prometheus-text.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";
import { waitFor } from "../support/wait-for.js";
import { freePort } from "../support/free-port.js";

describe("detour-ext-proc binary: start-up validation", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "detour-ext-proc-bad-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 2 naming the field, its line and the problem when the config is invalid", async () => {
    const path = join(dir, "bad.yaml");
    writeFileSync(path, "services:\n  pricing:\n    baseline: v3\n    versions: { v1: {} }\n");
    const result = await runExtProcToExit(["--config", path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("(invalid-config) ");
    expect(result.stderr).toContain("bad.yaml:3:15 services.pricing.baseline: baseline 'v3' is not one of this service's versions (v1)");
  });

  it("exits 2 when the config file is missing or not YAML", async () => {
    const missing = await runExtProcToExit(["--config", join(dir, "nope.yaml")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/\(config-unreadable\) .*nope\.yaml: no such file/);
    const path = join(dir, "broken.yaml");
    writeFileSync(path, "services: [\n");
    const broken = await runExtProcToExit(["--config", path]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/\(invalid-config\) .*broken\.yaml:\d+:\d+ .*: fix the YAML syntax there/);
  });

  it("exits 2 with usage when --config is missing", async () => {
    const result = await runExtProcToExit([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: detour-ext-proc --config");
  });
});

// The real server binary as a child process behind real Envoy: kill, restart, reload, SIGTERM.
describe("detour-ext-proc binary behind real Envoy", () => {
  let upstreams: Upstreams;
  let envoy: EnvoyProcess;
  let server: ExtProcProcess | undefined;
  let dir: string;
  let configPath: string;
  let config: DetourConfig;
  let port = 0;

  const writeConfig = (next: DetourConfig | string) => writeFileSync(configPath, typeof next === "string" ? next : stringify(next));
  const ask = (headers: Record<string, string>, authority = "pricing") =>
    sendThroughSidecar(envoy.listenerPort("outbound:frontend/v1"), authority, { headers });
  const answeredBy = async (headers: Record<string, string>, authority = "pricing") => {
    const response = await ask(headers, authority);
    return response.status === 200 ? response.upstream?.version : `status ${response.status}`;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-ext-proc-life-"));
    configPath = join(dir, "detour.yaml");
    upstreams = await startTopologyUpstreams();
    // A fixed port, so the restarted server is found by the same Envoy cluster.
    port = await freePort();
    config = { ...upstreams.config, server: { ...upstreams.config.server, listen: `127.0.0.1:${port}`, logLevel: "debug" } };
    writeConfig(config);
    server = await startExtProcProcess(configPath);
    envoy = await startSidecars(config, port);
  });
  afterAll(async () => {
    await envoy?.stop();
    await server?.kill();
    await upstreams?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves health over gRPC and HTTP", async () => {
    expect(await grpcHealth(port, "")).toBe("SERVING");
    expect(await grpcHealth(port, "envoy.service.ext_proc.v3.ExternalProcessor")).toBe("SERVING");
    expect((await fetch(`http://127.0.0.1:${server!.metricsPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server!.metricsPort}/readyz`)).status).toBe(200);
  });

  it("routes overrides and logs one debug line per decision", async () => {
    expect(await answeredBy({ "x-detour": "pricing=v2" })).toBe("v2");
    const line = await server!.waitForLog((l) => l.msg === "route decision" && l.applied === "v2", "a decision log line");
    expect(line).toMatchObject({ service: "pricing", requested: "v2", applied: "v2", outcome: "applied", workload: "frontend/v1", override: "pricing=v2" });
  });

  it("reloads a good config when the file changes", async () => {
    expect(await answeredBy({ "x-detour": "pricing=v9" })).toBe("v1");
    const services = { ...config.services, pricing: { ...config.services.pricing!, miss: "reject" as const } };
    config = { ...config, services };
    writeConfig(config);
    await waitFor(async () => (await answeredBy({ "x-detour": "pricing=v9" })) === "status 503", { what: "pricing's new miss policy" });
    const rejected = await ask({ "x-detour": "pricing=v9" });
    expect(rejected.text).toBe("detour: service 'pricing' has no version 'v9' (known versions: v1, v2) and rejects unknown versions\n");
    expect(rejected.headers["content-type"]).toContain("text/plain");
  });

  it("rejects a bad config with a log line and keeps the last good one", async () => {
    writeConfig(stringify(config).replace("baseline: v1", "baseline: v0"));
    const warning = await server!.waitForLog((l) => l.msg === "config reload rejected; keeping the last good config", "the rejection");
    expect(String(warning.problem)).toMatch(/services\.\w+\.baseline: baseline 'v0'/);
    expect(await answeredBy({ "x-detour": "pricing=v2" })).toBe("v2");
    expect(await answeredBy({ "x-detour": "pricing=v9" })).toBe("status 503");
    expect(metricValue(await server!.metrics(), "detour_ext_proc_config_reloads_total", { result: "failure" })).toBeGreaterThanOrEqual(1);
    // Writing the last good text back is no change: nothing to reload.
    writeConfig(config);
  });

  it("reloads on SIGHUP", async () => {
    const before = metricValue(await server!.metrics(), "detour_ext_proc_config_reloads_total", { result: "success" });
    server!.signal("SIGHUP");
    await waitFor(async () => metricValue(await server!.metrics(), "detour_ext_proc_config_reloads_total", { result: "success" }) > before, { what: "a SIGHUP reload" });
  });

  it("metrics reflect the decisions", async () => {
    const text = await server!.metrics();
    expect(metricValue(text, "detour_ext_proc_decisions_total", { service: "pricing", outcome: "applied" })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, "detour_ext_proc_decisions_total", { service: "pricing", outcome: "rejected" })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, "detour_ext_proc_decisions_total", { service: "pricing", outcome: "fallback" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, "detour_ext_proc_requests_total")).toBeGreaterThanOrEqual(5);
  });

  it("fails open: with ext_proc dead, traffic still flows on the baseline", async () => {
    await server!.kill();
    server = undefined;
    for (let i = 0; i < 3; i++) {
      const response = await ask({ "x-detour": "pricing=v2" });
      expect(response.status, response.text).toBe(200);
      expect(response.upstream?.version).toBe("v1");
    }
    expect(await answeredBy({})).toBe("v1");
    expect(await answeredBy({ "x-detour": "checkout=v9" }, "checkout")).toBe("v1");
  });

  it("routes overrides again once the server is back, without restarting Envoy", async () => {
    server = await startExtProcProcess(configPath);
    await waitFor(async () => (await answeredBy({ "x-detour": "pricing=v2" })) === "v2", { what: "overrides after the restart", timeoutMs: 30_000 });
    expect(await answeredBy({ "x-detour": "catalog=v2" }, "catalog")).toBe("v2");
  });

  it("stops gracefully on SIGTERM with exit code 0", async () => {
    const running = server!;
    running.signal("SIGTERM");
    const exit = await running.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(running.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["shutting down: finishing in-flight streams", "detour ext_proc server stopped"]));
    server = undefined;
    expect(await answeredBy({ "x-detour": "pricing=v2" })).toBe("v1");
  });
});
