import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createProcessClient, type ProcessClient } from "../../packages/ext-proc/src/testing/process-client.js";
import { encodeRequestHeaders } from "../../packages/ext-proc/src/testing/process-messages.js";
import { startExtProcProcess, type ExtProcProcess } from "../support/ext-proc-process.js";
import { metricValue } from "../support/prometheus-text.js";
import { waitFor } from "../support/wait-for.js";
import { ClusterWorkloads } from "./support/cluster-workloads.js";
import { millisUntil, waitUntilReady } from "./support/discovery-rig.js";
import { sharedApiServer } from "./support/shared-api-server.js";

// docs/operations.md (Kubernetes discovery at scale) records what this prints for 500 services:
//   DETOUR_SCALE_SERVICES=500 DETOUR_KUBERNETES_TIMEOUT=1800 bash scripts/test-kubernetes test/kubernetes/discovery-scale.test.ts
// The lane runs it at 100 services (filling the API server with 2,500 versions takes minutes here).
const NAMESPACE = "discovery-scale";
const SERVICES = Number(process.env.DETOUR_SCALE_SERVICES ?? 100);
const VERSIONS = 5;
/** Parallel API calls while the cluster is filled. */
const FILL_CONCURRENCY = 32;
/** Decisions per server per round; rounds alternate between the two servers. */
const DECISIONS_PER_ROUND = 1_000;
const ROUNDS = 6;

const serviceName = (index: number) => `svc-${String(index).padStart(3, "0")}`;
const versionName = (index: number) => (index === 0 ? "v1" : `pr-${index}`);

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One decision over a fresh stream (as Envoy opens one per request): round-trip milliseconds and the route set. */
async function decide(client: ProcessClient, service: string, version: string): Promise<{ ms: number; route: string | undefined }> {
  const started = performance.now();
  const call = client.open({ "x-detour-role": "outbound" });
  const answered = new Promise<void>((resolve) => call.once("data", () => resolve()));
  call.write(encodeRequestHeaders({ headers: [[":authority", `${service}.${NAMESPACE}.svc.cluster.local`], [":path", "/"], ["x-detour", `${service}=${version}`]] }));
  await answered;
  const ms = performance.now() - started;
  call.end();
  await call.ended;
  return { ms, route: call.responses[0]?.setHeaders["x-detour-route"] };
}

// 500 services x 5 versions (2,500 Ready pods, 2,500 Deployments, 500 Services) watched by one
// server, against a server given the same topology in detour.yaml, measured in the same run.
describe(`${SERVICES} services x ${VERSIONS} versions watched`, () => {
  const apiServer = sharedApiServer();
  const cluster = new ClusterWorkloads(apiServer.kubeConfig(), NAMESPACE);
  let dir: string;
  let discovering: ExtProcProcess;
  let fromFile: ExtProcProcess;
  let fillSeconds = 0;
  let syncMs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-scale-"));
    await cluster.createNamespace();
    const fillStarted = performance.now();
    const services = Array.from({ length: SERVICES }, (_, index) => serviceName(index));
    await inParallel(services, FILL_CONCURRENCY, (name) => cluster.service(name, { "detour.dev/baseline": "v1" }, { headless: true }));
    const versions = services.flatMap((service) => Array.from({ length: VERSIONS }, (_, index) => [service, versionName(index)] as const));
    await inParallel(versions, FILL_CONCURRENCY, ([service, version]) => cluster.deployVersion(service, version));
    fillSeconds = (performance.now() - fillStarted) / 1000;

    const server = { listen: "127.0.0.1:0", metrics: "127.0.0.1:0", logLevel: "info" };
    const discoveringConfig = join(dir, "discovering.yaml");
    writeFileSync(discoveringConfig, stringify({ services: {}, kubernetes: { namespaces: [NAMESPACE], kubeconfig: apiServer.kubeconfigPath }, server }));
    const staticConfig = join(dir, "static.yaml");
    const staticServices = Object.fromEntries(services.map((service) => [service, { baseline: "v1", versions: Object.fromEntries(Array.from({ length: VERSIONS }, (_, index) => [versionName(index), {}])) }]));
    writeFileSync(staticConfig, stringify({ services: staticServices, server }));
    const started = performance.now();
    discovering = await startExtProcProcess(discoveringConfig);
    await waitUntilReady(discovering, 120_000);
    syncMs = performance.now() - started;
    fromFile = await startExtProcProcess(staticConfig);
  }, 1_500_000);
  afterAll(async () => {
    for (const server of [discovering, fromFile]) {
      server?.signal("SIGTERM");
      await server?.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("routes every version, and reports memory and decision latency against the same topology from detour.yaml", async () => {
    const status = (await (await fetch(`http://127.0.0.1:${discovering.metricsPort}/status`)).json()) as { services: { versions: unknown[] }[] };
    expect(status.services).toHaveLength(SERVICES);
    expect(status.services.every((service) => service.versions.length === VERSIONS)).toBe(true);

    const clients = { discovering: createProcessClient(discovering.grpcPort), fromFile: createProcessClient(fromFile.grpcPort) };
    const samples: Record<keyof typeof clients, number[]> = { discovering: [], fromFile: [] };
    // Warm both (JIT, connections) before measuring.
    for (const client of Object.values(clients)) for (let index = 0; index < 500; index++) await decide(client, serviceName(index % SERVICES), "v1");
    let request = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of (round % 2 === 0 ? ["discovering", "fromFile"] : ["fromFile", "discovering"]) as (keyof typeof clients)[]) {
        for (let index = 0; index < DECISIONS_PER_ROUND; index++) {
          const service = serviceName((request * 7919) % SERVICES);
          const version = versionName(request++ % VERSIONS);
          const answer = await decide(clients[name], service, version);
          expect(answer.route).toBe(version);
          samples[name].push(answer.ms);
        }
      }
    }
    for (const client of Object.values(clients)) client.close();

    // A version added at this scale: Ready -> a decision routes it.
    const additions: number[] = [];
    for (let index = 0; index < 10; index++) {
      const service = serviceName((index * 37) % SERVICES);
      const deployed = await cluster.deployVersion(service, "pr-new", { ready: false });
      const client = createProcessClient(discovering.grpcPort);
      const readyAt = performance.now();
      await cluster.setReady(deployed.pods[0]!, true);
      additions.push(await millisUntil(async () => (await decide(client, service, "pr-new")).route === "pr-new", readyAt, { what: `${service}/pr-new` }));
      client.close();
      await cluster.deleteVersion(deployed);
    }

    const metrics = { discovering: await discovering.metrics(), fromFile: await fromFile.metrics() };
    const rss = (name: keyof typeof metrics) => metricValue(metrics[name], "process_resident_memory_bytes") / 2 ** 20;
    const heap = (name: keyof typeof metrics) => metricValue(metrics[name], "nodejs_heap_size_used_bytes") / 2 ** 20;
    const rebuilds = metricValue(metrics.discovering, "detour_ext_proc_kubernetes_rebuild_seconds_count");
    const rebuildMeanMs = (metricValue(metrics.discovering, "detour_ext_proc_kubernetes_rebuild_seconds_sum") / rebuilds) * 1000;
    const sorted = { discovering: [...samples.discovering].sort((a, b) => a - b), fromFile: [...samples.fromFile].sort((a, b) => a - b) };
    const additionsSorted = [...additions].sort((a, b) => a - b);
    const line = (name: keyof typeof sorted) =>
      `RSS ${rss(name).toFixed(0)} MiB, heap used ${heap(name).toFixed(0)} MiB, decision round trip p50 ${percentile(sorted[name], 50).toFixed(3)} ms, p99 ${percentile(sorted[name], 99).toFixed(3)} ms`;
    console.log(
      [
        `${SERVICES} services x ${VERSIONS} versions (${SERVICES * VERSIONS} Ready pods): cluster filled in ${fillSeconds.toFixed(0)} s; the discovering server synced ${(syncMs / 1000).toFixed(1)} s after start`,
        `  discovering: ${line("discovering")}; ${rebuilds} rebuilds, mean ${rebuildMeanMs.toFixed(1)} ms`,
        `  detour.yaml: ${line("fromFile")}`,
        `  ratio discovering / detour.yaml: RSS ${(rss("discovering") / rss("fromFile")).toFixed(2)}x, p50 ${(percentile(sorted.discovering, 50) / percentile(sorted.fromFile, 50)).toFixed(2)}x, p99 ${(percentile(sorted.discovering, 99) / percentile(sorted.fromFile, 99)).toFixed(2)}x`,
        `  a version added at this scale: Ready -> routable p50 ${percentile(additionsSorted, 50).toFixed(0)} ms, max ${additionsSorted.at(-1)!.toFixed(0)} ms (10 versions)`,
      ].join("\n"),
    );
    await waitFor(async () => metricValue(await discovering.metrics(), "detour_ext_proc_kubernetes_topology_stale") === 0, { what: "a fresh topology" });
  }, 600_000);
});
