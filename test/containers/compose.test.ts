import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile, parseHostPort } from "@detour/ext-proc";
import { callNodeFromJson, compactTree } from "../../packages/cli/src/demo/call-tree.js";
import { readDemoRequests } from "../../packages/cli/src/demo/demo-requests.js";
import { waitFor } from "../support/wait-for.js";
import { composeFileForTests } from "./support/compose-file.js";
import { composeProject, type ComposeProject } from "./support/compose-project.js";
import { dockerUnavailableReason } from "./support/docker-daemon.js";
import { listeningSockets, nonLoopbackListeners } from "./support/listening-sockets.js";
import { offlineImages } from "./support/offline-images.js";

/** The topology docker-compose.yml is generated from, and the requests `detour demo` checks. */
const TOPOLOGY = fileURLToPath(new URL("../../examples/detour.yaml", import.meta.url));
const DEMO_REQUESTS = fileURLToPath(new URL("../../examples/demo-requests.yaml", import.meta.url));

/** Bounds of the start: docker-compose up itself, then everything answering on loopback. */
const COMPOSE_UP_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 240_000;

const choice = composeFileForTests();
const unavailable = dockerUnavailableReason();
const skipReason = unavailable ?? (choice.kind === "skip" ? choice.reason : undefined);
if (skipReason !== undefined) console.warn(`SKIPPED compose lane: ${skipReason}`);

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

const portInUse = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

// docker-compose.yml (or its host-network variant) started for real on the private daemon with
// the offline images; the demo requests go through the edge on loopback and each call tree is
// checked, then everything is torn down.
describe.skipIf(skipReason !== undefined)("docker-compose.yml, started for real (docker-compose up)", () => {
  const topology = loadConfigFile(TOPOLOGY);
  const demo = readDemoRequests(DEMO_REQUESTS);
  const edgeListen = String((topology.edge as { listen?: unknown } | undefined)?.listen ?? "127.0.0.1:10000");
  const edgeHost = parseHostPort(edgeListen)?.host;
  const edgeUrl = `http://${edgeListen}`;
  let project: ComposeProject | undefined;
  let failed = false;

  beforeAll(async () => {
    if (choice.kind === "error") throw new Error(choice.reason);
    if (choice.kind !== "run") return;
    const built = Object.values(offlineImages());
    const foreign = choice.images.filter((image) => !built.includes(image));
    if (foreign.length > 0) {
      throw new Error(`${choice.file} uses ${foreign.join(", ")}, which the lane cannot build offline: use the tags of docker/images.env (${built.join(", ")})`);
    }
    if (edgeHost !== "127.0.0.1" && edgeHost !== "localhost") throw new Error(`edge.listen ${edgeListen} is not on loopback`);
    // The file binds fixed loopback ports (those of examples/detour.yaml): say which is taken.
    const fixed = [edgeListen, topology.server.listen, topology.server.metrics];
    for (const spec of Object.values(topology.services)) for (const { endpoint } of Object.values(spec.versions)) if (endpoint) fixed.push(endpoint);
    for (const address of fixed) {
      const { host, port } = parseHostPort(address)!;
      if (await portInUse(host, port)) {
        throw new Error(`${address} is already in use, and docker-compose.yml binds it: stop what listens there (a native \`npm run demo\` with fixed ports?) and rerun`);
      }
    }
    console.info(`compose lane: ${choice.why}`);
    project = composeProject(choice.file, `detour-lane-${process.pid}`, COMPOSE_UP_TIMEOUT_MS);
    const upStarted = Date.now();
    await project.up();
    // Ready = every container running, the ext_proc server ready, every instance healthy and
    // a first answer through the edge, all probed on loopback. (The file's own healthchecks
    // gate `depends_on` only; on a loaded two-core machine they can lag the processes.)
    const probes: [string, string, Record<string, string>][] = [[`the ext_proc server (${topology.server.metrics}/readyz)`, `http://${topology.server.metrics}/readyz`, {}]];
    for (const [service, spec] of Object.entries(topology.services)) {
      for (const [version, { endpoint }] of Object.entries(spec.versions)) {
        if (endpoint !== undefined) probes.push([`${service}@${version} (${endpoint}/healthz)`, `http://${endpoint}/healthz`, {}]);
      }
    }
    probes.push([`a first answer through the edge (${edgeUrl})`, `${edgeUrl}/`, { "x-detour": "pricing=v1" }]);
    // One deadline for all probes: generous, as a loaded two-core machine starts nine
    // containers (each a full vfs copy of its image) and their Node processes slowly.
    const readyBy = Date.now() + READY_TIMEOUT_MS;
    let checked = 0;
    for (const [what, url, headers] of probes) {
      await waitFor(
        async () => {
          if ((await get(url, headers).catch(() => undefined))?.status === 200) return { stopped: [] };
          // A container that exited fails the wait at once instead of at its timeout.
          if (Date.now() - checked < 3_000) return undefined;
          checked = Date.now();
          const stopped = (await project!.states()).filter((state) => state.status !== "running");
          return stopped.length > 0 ? { stopped } : undefined;
        },
        { what, timeoutMs: Math.max(readyBy - Date.now(), 1_000), intervalMs: 250 },
      )
        .then(({ stopped }) => {
          if (stopped.length > 0) throw new Error(`containers stopped: ${stopped.map((state) => `${state.name} (${state.status})`).join(", ")}`);
        })
        .catch(async (error: unknown) => {
          throw new Error(`${(error as Error).message}\n${await project!.logs()}`);
        });
    }
    const states = await project.states();
    console.info(
      `compose lane: ${states.length} containers up and answering in ${((Date.now() - upStarted) / 1000).toFixed(1)}s (health: ${states.map((state) => `${state.name.replace(`${project!.name}_`, "")}=${state.health}`).join(" ")})`,
    );
  }, COMPOSE_UP_TIMEOUT_MS + READY_TIMEOUT_MS + 30_000);

  afterEach((context) => {
    if (context.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    if (!project) return;
    if (failed) console.error(`docker-compose logs (tail):\n${await project.logs()}`);
    await project.down();
  });

  it("has every container listening on 127.0.0.1 only (host network)", async () => {
    const states = await project!.states();
    expect(states.every((state) => state.status === "running" && state.pid > 0), JSON.stringify(states)).toBe(true);
    const pids = states.map((state) => state.pid);
    expect(listeningSockets(pids).length, "the containers' listening sockets").toBeGreaterThanOrEqual(states.length);
    expect(nonLoopbackListeners(pids)).toEqual([]);
  });

  it.each(demo.requests.map((r) => [r.name, r] as const))("edge request: %s", async (_name, request) => {
    const answer = await get(new URL(request.path, edgeUrl).href, request.headers);
    const tree = compactTree(callNodeFromJson(answer.body ?? { error: answer.text, status: answer.status }, "frontend"));
    expect(tree, answer.text).toBe(request.expect);
  });

  it.each(demo.jobs.map((j) => [j.name, j] as const))("background job: %s", async (_name, job) => {
    const [service = "", version = ""] = job.workload.split("/");
    const endpoint = topology.services[service]?.versions[version]?.endpoint;
    expect(endpoint, `${job.workload} has an endpoint in examples/detour.yaml`).toBeDefined();
    let last = "";
    await waitFor(
      async () => {
        const answer = await get(`http://${endpoint}${job.path}`);
        last = compactTree(callNodeFromJson(answer.body ?? { error: answer.text, status: answer.status }, service));
        return last === job.expect ? true : undefined;
      },
      { what: `${job.workload}'s job to show ${job.expect}`, timeoutMs: 30_000, intervalMs: 500 },
    ).catch(() => expect(last).toBe(job.expect));
  });
});
