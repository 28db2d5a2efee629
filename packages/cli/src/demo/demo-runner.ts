import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DetourError } from "@detour/core";
import { EXT_PROC_NODE_FLAGS, type DetourConfig } from "@detour/ext-proc";
import { startEnvoy } from "../envoy-process.js";
import { detourEnvoyYaml } from "../envoy-config/detour-envoy-bootstrap.js";
import { EDGE_LISTENER } from "../envoy-config/edge-listener.js";
import { extProcConfigYaml } from "../generate/ext-proc-config.js";
import { callNodeFromJson, compactTree, type CallNode } from "./call-tree.js";
import type { DemoJob, DemoRequest } from "./demo-requests.js";
import { pickFreePorts } from "./loopback-ports.js";
import { planDemo, portsNeeded, type DemoInstance, type DemoPlan } from "./demo-plan.js";
import { withDemoToken, type DemoToken } from "./demo-token.js";
import type { ChildCrash, ProcessSupervisor } from "./process-supervisor.js";
import { assertBuilt, exampleScript, type RepoLayout } from "./repo-layout.js";
import { httpGet, waitFor } from "./wait-for.js";

/** Startup steps wait this long at most: generous for a cold start on a loaded 2-core machine. */
const STARTUP_TIMEOUT_MS = 90_000;
/** A background job runs every few seconds; a few rounds must show the expected tree. */
const JOB_TIMEOUT_MS = 30_000;

export interface DemoStartOptions {
  readonly layout: RepoLayout;
  readonly config: DetourConfig;
  readonly envoyBin: string;
  /** Edge listener port; 0 picks a free one. */
  readonly edgePort: number;
  /** Progress lines for people (stderr). */
  readonly progress: (line: string) => void;
}

export interface RunningDemo {
  readonly plan: DemoPlan;
  readonly edgePort: number;
  readonly edgeUrl: string;
  readonly envoyAdminUrl: string;
  /** The directory holding this run's generated configs (removed by stop()). */
  readonly dir: string;
  /** A signed override token minted for this run (demo-token.ts). */
  readonly token: DemoToken;
  instance(workload: string): DemoInstance | undefined;
  /** Resolves with the first child that exits on its own. */
  readonly crashed: Promise<ChildCrash>;
}

/** The message for a child that exited on its own: who, how, and the end of its output. */
export function crashMessage(crash: ChildCrash): string {
  const tail = crash.log.trim().split("\n").slice(-15).join("\n  ");
  return `${crash.name} (pid ${crash.pid}) exited unexpectedly (${typeof crash.exit === "number" ? `code ${crash.exit}` : crash.exit})${tail ? `; its last output:\n  ${tail}` : " without output"}`;
}

/**
 * Starts the whole demo on loopback under `supervisor`: the ext_proc server, one Envoy with a
 * sidecar listener per workload and the edge listener, and every example service instance,
 * each on a port picked for this run; waits until each answers. Generated configs go to a
 * temp dir. On failure, whatever started is left to the supervisor's stopAll.
 */
export async function startDemo(options: DemoStartOptions, supervisor: ProcessSupervisor): Promise<RunningDemo> {
  const { layout, config, progress } = options;
  const scripts = Object.keys(config.services).map((service) => exampleScript(layout, service));
  assertBuilt([layout.extProcBin, ...scripts]);

  const crash = new AbortController();
  const crashed = new Promise<ChildCrash>((resolve) =>
    supervisor.onCrash((child) => {
      crash.abort(new DetourError("demo-child-crashed", crashMessage(child)));
      resolve(child);
    }),
  );
  const signal = AbortSignal.any([crash.signal, supervisor.stopSignal]);

  const dir = mkdtempSync(join(tmpdir(), "detour-demo-"));
  supervisor.onStopped(() => rmSync(dir, { recursive: true, force: true }));
  // Edge trust: this run's token key pair joins the edge's keys, and a token is minted with it.
  const { plan, token } = await withDemoToken(planDemo(config, await pickFreePorts(portsNeeded(config)), options.edgePort), dir);
  const serverConfig = join(dir, "detour.yaml");
  writeFileSync(
    serverConfig,
    extProcConfigYaml({ ...plan.topology, server: { ...plan.topology.server, logLevel: "warn" } }, "detour demo: this run's topology (ports picked at start)"),
  );

  progress(`starting the ext_proc server (127.0.0.1:${plan.extProc.port})`);
  supervisor.spawn({ name: "ext-proc", command: process.execPath, args: [...EXT_PROC_NODE_FLAGS, layout.extProcBin, "--config", serverConfig] });

  // Services first: they bind their ports at once, and only call their sidecar per request.
  progress(`starting ${plan.instances.length} service instances`);
  for (const instance of plan.instances) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SERVICE: instance.service,
      VERSION: instance.version,
      HOST: "127.0.0.1",
      PORT: String(instance.port),
      DETOUR_SUPERVISED: "1",
    };
    const sidecar = instance.workload === undefined ? undefined : plan.envoy.sidecarPorts[instance.workload];
    if (sidecar !== undefined) env.SIDECAR = `127.0.0.1:${sidecar}`;
    supervisor.spawn({ name: `${instance.service}@${instance.version}`, command: process.execPath, args: [exampleScript(layout, instance.service)], env, cwd: layout.root });
  }

  progress("starting Envoy (a sidecar listener per workload, and the edge)");
  const envoyYaml = detourEnvoyYaml(plan.topology, {
    sidecarPorts: plan.envoy.sidecarPorts,
    adminPort: plan.envoy.adminPort,
    edgePort: plan.envoy.edgePort,
    edgeAddress: "127.0.0.1",
  });
  writeFileSync(join(dir, "envoy.yaml"), envoyYaml);
  const envoy = await startEnvoy({ config: envoyYaml, envoyBin: options.envoyBin, detached: true, readyTimeoutMs: STARTUP_TIMEOUT_MS }).catch((error: unknown) => {
    throw explainEnvoyFailure(error, options.edgePort);
  });
  if (supervisor.stopping) {
    // Ctrl-C arrived while Envoy was starting: nobody else will stop it.
    await envoy.stop();
    throw supervisor.stopSignal.reason;
  }
  supervisor.adopt("envoy", { pid: envoy.pid, exited: envoy.exited, stop: () => envoy.stop(), log: () => envoy.log(), processGroup: true });
  const edgePort = envoy.listenerPort(EDGE_LISTENER);

  await waitFor("the ext_proc server answering /readyz", async () => ((await httpGet(`http://127.0.0.1:${plan.extProc.metricsPort}/readyz`))?.status === 200 ? true : undefined), {
    timeoutMs: STARTUP_TIMEOUT_MS,
    signal,
  });
  for (const instance of plan.instances) {
    await waitFor(`${instance.service}@${instance.version} answering /healthz`, async () => ((await httpGet(`http://127.0.0.1:${instance.port}/healthz`))?.status === 200 ? true : undefined), {
      timeoutMs: STARTUP_TIMEOUT_MS,
      signal,
    });
  }
  const edgeUrl = `http://127.0.0.1:${edgePort}/`;
  // The first request through the edge also warms Envoy's connections to ext_proc.
  await waitFor("a first answer through the edge", async () => ((await httpGet(edgeUrl, { "x-detour": "pricing=v1" }))?.status === 200 ? true : undefined), {
    timeoutMs: STARTUP_TIMEOUT_MS,
    signal,
  });

  return {
    plan,
    edgePort,
    edgeUrl,
    envoyAdminUrl: envoy.adminUrl,
    dir,
    instance: (workload) => plan.instances.find((instance) => `${instance.service}/${instance.version}` === workload),
    crashed,
    token,
  };
}

function explainEnvoyFailure(error: unknown, edgePort: number): unknown {
  if (error instanceof DetourError && /Address already in use|cannot bind/i.test(error.message) && edgePort !== 0) {
    return new DetourError("port-busy", `Envoy could not bind the edge port ${edgePort}: it is in use; pass --port with a free port (--port 0 picks one)`, { cause: error });
  }
  return error;
}

/** What one demo request (or background job) produced, against what it should. */
export interface DemoOutcome {
  readonly name: string;
  /** The request headers sent (empty for a job). */
  readonly headers: Readonly<Record<string, string>>;
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
  readonly tree: CallNode;
}

/** Sends one demo request through the edge and compares the call tree with its expectation. */
export async function runDemoRequest(demo: RunningDemo, request: DemoRequest): Promise<DemoOutcome> {
  const answer = await httpGet(new URL(request.path, demo.edgeUrl).href, request.headers, 30_000);
  const tree = answerTree(answer, "frontend");
  const actual = compactTree(tree);
  return { name: request.name, headers: request.headers, expected: request.expect, actual, ok: actual === request.expect, tree };
}

/** Reads what a workload's background job saw last, waiting (bounded) until it matches. */
export async function runDemoJob(demo: RunningDemo, job: DemoJob): Promise<DemoOutcome> {
  const instance = demo.instance(job.workload);
  const [service] = job.workload.split("/");
  if (instance === undefined) {
    const tree: CallNode = { service: service ?? job.workload, error: `${job.workload} is not an instance of the topology` };
    return { name: job.name, headers: {}, expected: job.expect, actual: compactTree(tree), ok: false, tree };
  }
  let tree: CallNode = { service: service ?? job.workload, error: "the job has not reported yet" };
  try {
    await waitFor(
      `${job.workload}'s job showing ${job.expect}`,
      async () => {
        tree = answerTree(await httpGet(`http://127.0.0.1:${instance.port}${job.path}`), service ?? job.workload);
        return compactTree(tree) === job.expect ? true : undefined;
      },
      { timeoutMs: JOB_TIMEOUT_MS },
    );
  } catch {
    // Report the last tree seen: the mismatch is the result.
  }
  const actual = compactTree(tree);
  return { name: job.name, headers: {}, expected: job.expect, actual, ok: actual === job.expect, tree };
}

function answerTree(answer: { status: number; text: string } | undefined, service: string): CallNode {
  if (answer === undefined) return { service, error: "no answer" };
  try {
    const node = callNodeFromJson(JSON.parse(answer.text), service);
    return answer.status === 200 || "error" in node ? node : { service, status: answer.status, error: answer.text.trim().split("\n")[0] ?? "" };
  } catch {
    return { service, status: answer.status, error: answer.text.trim().split("\n")[0] ?? "" };
  }
}
