import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startEnvoy, type EnvoyProcess } from "@detour/cli/envoy";
import { createExtProcServer, type DetourConfig, type ExtProcServer } from "@detour/ext-proc";
import { detourEnvoyYaml } from "../../packages/cli/src/envoy-config/detour-envoy-bootstrap.js";
import { envoyBin } from "../support/envoy.js";
import { startTopologyUpstreams, type Upstreams } from "../support/detour-rig.js";
import { metricValue } from "../support/prometheus-text.js";
import { tokenFor, writeSuiteKeys, type SuiteKeys } from "./edge-keys.js";
import { sendToListener } from "./edge-request.js";
import { freePort } from "../support/free-port.js";

type HeaderSpec = string | string[];

interface EdgeCase {
  name: string;
  via?: string;
  hostile?: boolean;
  from?: string;
  authority?: string;
  token?: string;
  token2?: string;
  ovr?: string;
  path?: string;
  headers?: Record<string, HeaderSpec>;
  expect: {
    status?: number;
    version?: string;
    forwarded?: Record<string, string>;
    absent?: string[];
    rejection?: string;
    admitted?: string;
    body?: string;
  };
}

const cases = parse(readFileSync(new URL("./edge-cases.yaml", import.meta.url), "utf8")) as EdgeCase[];
const TOPOLOGY = fileURLToPath(new URL("./edge-topology.yaml", import.meta.url));

/** One ext_proc server (in-process, logging into `logs`) and the Envoy in front of it. */
interface Rig {
  server: ExtProcServer | undefined;
  envoy: EnvoyProcess;
  metricsPort: number;
}

const hostile = { tried: 0, passed: 0 };

// Real Envoy (edge listener with its two filter chains and the trust: token sidecar), the real
// ext_proc server in role edge, one small upstream per service version. Three rigs: the
// default edge, a strict edge (onInvalid: reject), and an edge whose ext_proc is down.
describe("edge trust through real Envoy", () => {
  let dir: string;
  let keys: SuiteKeys;
  let upstreams: Upstreams;
  let logs = "";
  const rigs = new Map<string, Rig>();

  async function startRig(name: string, config: DetourConfig, withServer: boolean): Promise<void> {
    let server: ExtProcServer | undefined;
    let grpcPort = await freePort();
    let metricsPort = 0;
    if (withServer) {
      const logger = pino({ level: "debug" }, { write: (line: string) => void (logs += line) });
      server = createExtProcServer(config, { logger, baseDir: dir });
      const addresses = await server.start();
      grpcPort = addresses.grpcPort;
      metricsPort = addresses.metricsPort;
    }
    const envoy = await startEnvoy({
      envoyBin: await envoyBin(),
      config: detourEnvoyYaml(config, {
        sidecarPorts: Object.fromEntries(Object.keys(config.workloads).map((workload) => [workload, 0])),
        edgePort: 0,
        edgeAddress: "127.0.0.1",
        extProcAddress: `127.0.0.1:${grpcPort}`,
      }),
      readyTimeoutMs: 60_000,
    });
    rigs.set(name, { server, envoy, metricsPort });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-edge-suite-"));
    copyFileSync(TOPOLOGY, join(dir, "detour.yaml"));
    keys = writeSuiteKeys(dir);
    upstreams = await startTopologyUpstreams(join(dir, "detour.yaml"));
    const config = upstreams.config;
    await startRig("edge", config, true);
    await startRig("edge-strict", { ...config, edge: { ...config.edge!, onInvalid: "reject" } }, true);
    await startRig("edge-down", config, false);
  });

  afterAll(async () => {
    for (const rig of rigs.values()) {
      await rig.envoy.stop();
      await rig.server?.stop({ graceMs: 1_000 });
    }
    await upstreams?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    // The hostile cases tried and how many the edge defeated, for the run's log.
    console.log(`edge suite: ${hostile.tried} hostile cases tried, ${hostile.passed} passed`);
  });

  async function metric(rig: Rig, name: string, labels: Record<string, string>): Promise<number> {
    if (rig.server === undefined) return 0;
    const text = await (await fetch(`http://127.0.0.1:${rig.metricsPort}/metrics`)).text();
    return metricValue(text, name, labels);
  }

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    if (testCase.hostile) hostile.tried++;
    const via = testCase.via ?? "edge";
    const sidecar = via.startsWith("sidecar:") ? via.slice("sidecar:".length) : undefined;
    const rig = rigs.get(sidecar === undefined ? via : "edge")!;
    const role = sidecar === undefined ? "edge" : "outbound";
    const ovr = testCase.ovr ?? "frontend=v2,pricing=v2";
    const token = testCase.token === undefined ? "" : await tokenFor(testCase.token, ovr, keys);
    const token2 = testCase.token2 === undefined ? "" : await tokenFor(testCase.token2, ovr, keys);
    const fill = (text: string) => text.replaceAll("{token2}", token2).replaceAll("{token}", token);
    const headers: Record<string, string | string[]> = {};
    for (const [name, spec] of Object.entries(testCase.headers ?? {})) headers[name] = Array.isArray(spec) ? spec.map(fill) : fill(spec);
    const expected = testCase.expect;
    const rejectionLabels = { role, reason: expected.rejection ?? "" };
    const admittedLabels = { role, via: expected.admitted ?? "" };
    const rejectedBefore = await metric(rig, "detour_ext_proc_trust_rejections_total", rejectionLabels);
    const admittedBefore = await metric(rig, "detour_ext_proc_trust_admissions_total", admittedLabels);

    const port = sidecar === undefined ? rig.envoy.listenerPort("edge") : rig.envoy.listenerPort(`outbound:${sidecar}`);
    const response = await sendToListener(port, { from: testCase.from, path: fill(testCase.path ?? "/"), authority: testCase.authority, headers });

    expect(response.status, response.text).toBe(expected.status ?? 200);
    if (expected.body !== undefined) expect(response.text).toContain(expected.body);
    if (token !== "" && response.upstream === undefined) expect(response.text, "a local answer never echoes the token").not.toContain(token);
    if (expected.version !== undefined) {
      expect(response.upstream?.version, response.text).toBe(expected.version);
      const received = response.upstream!.headers;
      for (const internal of ["x-detour-route", "x-detour-edge"]) expect(received[internal], `${internal} must never reach a service`).toBeUndefined();
      for (const [name, value] of Object.entries(expected.forwarded ?? {})) expect(received[name], name).toBe(fill(value));
      for (const name of expected.absent ?? []) expect(received[name], `${name} must not reach the service`).toBeUndefined();
    }
    if (expected.rejection !== undefined) {
      expect((await metric(rig, "detour_ext_proc_trust_rejections_total", rejectionLabels)) - rejectedBefore, `rejections{reason=${expected.rejection}}`).toBe(1);
    }
    if (expected.admitted !== undefined) {
      expect((await metric(rig, "detour_ext_proc_trust_admissions_total", admittedLabels)) - admittedBefore, `admissions{via=${expected.admitted}}`).toBe(1);
    }
    if (testCase.hostile) hostile.passed++;
  });

  it("never logged a token, and Envoy never refused a mutation", async () => {
    expect(logs).toContain('"msg":"override refused"');
    for (const recipe of ["valid", "expired", "forged"]) {
      const sample = await tokenFor(recipe, "frontend=v2,pricing=v2", keys);
      // Signatures differ per minting; the header and claims segments are what a leak would show.
      expect(logs).not.toContain(sample.split(".")[2]!);
    }
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    for (const rig of rigs.values()) {
      let rejected = 0;
      for (const [name, value] of await rig.envoy.stats()) if (name.endsWith("ext_proc.rejected_header_mutations")) rejected += value;
      expect(rejected).toBe(0);
    }
  });
});
