import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envoyConfigFromTopology } from "@detour/cli";
import { startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { EXT_PROC_BIN } from "../support/ext-proc-process.js";
import { metricValue } from "../support/prometheus-text.js";
import { caseHeaders, expectRoutingOutcome, routingCases } from "../support/routing-cases.js";
import { sendThroughSidecar } from "../support/sidecar-request.js";
import { dockerUnavailableReason } from "./support/docker-daemon.js";
import { listeningSockets, nonLoopbackListeners } from "./support/listening-sockets.js";
import { startEnvoyContainer, type EnvoyContainer } from "./support/envoy-container.js";
import { startExtProcContainer, type ExtProcContainer } from "./support/ext-proc-container.js";

const cases = routingCases;

const unavailable = dockerUnavailableReason();
if (unavailable !== undefined) console.warn(`SKIPPED container tests: ${unavailable}`);

// Envoy and the ext_proc server as containers (testcontainers, host network, everything on
// 127.0.0.1), one small upstream per service version on the host: the routing cases of the
// native e2e suite, unchanged, through the containerized pair.
describe.skipIf(unavailable !== undefined)("ext_proc server and Envoy as containers (testcontainers)", () => {
  let workDir: string;
  let upstreams: Upstreams;
  let extProc: ExtProcContainer | undefined;
  let envoy: EnvoyContainer | undefined;

  beforeAll(async () => {
    if (!existsSync(EXT_PROC_BIN)) throw new Error(`${EXT_PROC_BIN} is missing: run \`npm run build\` first (npm run test:containers does)`);
    workDir = mkdtempSync(join(tmpdir(), "detour-containers-"));
    upstreams = await startTopologyUpstreams();
    extProc = await startExtProcContainer(upstreams.config, workDir);
    envoy = await startEnvoyContainer(envoyConfigFromTopology(upstreams.config, { extProcAddress: `127.0.0.1:${extProc.grpcPort}` }), workDir);
  });

  afterAll(async () => {
    // Explicit cleanup: the Ryuk reaper is disabled (its image cannot be pulled here).
    await envoy?.stop();
    await extProc?.stop();
    await upstreams?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  const streamsStarted = async (workload: string) =>
    (await envoy!.stats()).get(`http.outbound_${workload.replace(/[^A-Za-z0-9_-]/g, "_")}.ext_proc.streams_started`) ?? 0;

  it("routes x-detour: pricing=v2 to v2 and a request without override to v1", async () => {
    const port = envoy!.listenerPort("outbound:frontend/v1");
    const overridden = await sendThroughSidecar(port, "pricing", { headers: { "x-detour": "pricing=v2" }, path: "/quote" });
    expect(overridden.status, overridden.text).toBe(200);
    expect(overridden.upstream?.version).toBe("v2");
    const plain = await sendThroughSidecar(port, "pricing", { path: "/quote" });
    expect(plain.status, plain.text).toBe(200);
    expect(plain.upstream?.version).toBe("v1");
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const via = testCase.via ?? "frontend/v1";
    const headers = caseHeaders(testCase);
    const before = await streamsStarted(via);

    const response = await sendThroughSidecar(envoy!.listenerPort(`outbound:${via}`), testCase.authority, { headers, path: "/quote" });

    const expected = testCase.expect;
    expectRoutingOutcome(response, expected);
    if (expected.extProc !== undefined) {
      expect((await streamsStarted(via)) - before, `ext_proc streams for ${via}`).toBe(expected.extProc === "called" ? 1 : 0);
    }
  });

  it("has both containers listening on 127.0.0.1 only (host network)", () => {
    const ids = [extProc!.container.getId(), envoy!.container.getId()];
    const pids = execFileSync("docker", ["inspect", "--format", "{{.State.Pid}}", ...ids], { encoding: "utf8" }).trim().split("\n").map(Number);
    const ports = listeningSockets(pids).map((socket) => socket.port);
    expect(ports).toContain(extProc!.grpcPort);
    expect(ports).toContain(envoy!.listenerPort("outbound:frontend/v1"));
    expect(nonLoopbackListeners(pids)).toEqual([]);
  });

  it("had the containerized server decide (its /metrics on loopback) and Envoy accept every mutation", async () => {
    const text = await (await fetch(`http://127.0.0.1:${extProc!.metricsPort}/metrics`)).text();
    expect(metricValue(text, "detour_ext_proc_decisions_total", { service: "pricing", outcome: "applied" })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, "detour_ext_proc_requests_total")).toBeGreaterThan(cases.length / 2);
    let rejected = 0;
    let failed = 0;
    for (const [name, value] of await envoy!.stats()) {
      if (name.endsWith("ext_proc.rejected_header_mutations")) rejected += value;
      if (name.endsWith("ext_proc.streams_failed")) failed += value;
    }
    expect({ rejected, failed }).toEqual({ rejected: 0, failed: 0 });
  });
});
