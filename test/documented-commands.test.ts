// Every command README.md, docs/*.md and the package READMEs print (fenced sh blocks and `$ `
// transcript lines), and every command `npm run demo` prints, run as printed against real
// processes. Each documented command has an entry below: how it runs, or why it cannot run here.
// A command added to the documents without an entry fails the first test.
//
// Commands run from the repository root, or from a scratch directory inside it standing for the
// reader's own directory: it holds the files the documents show the reader (detour.yaml, keys)
// and receives what commands write (envoy/, keys/), so nothing in the repository is overwritten.
// npx resolves the workspace's bins from there as from the root; a bare `detour` is the CLI on
// PATH (node_modules/.bin), as installed. npx never fetches a package here (npm_config_yes=false).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentedCommands, parseSimpleCommand, type DocCommand } from "./support/doc-commands.js";
import { envoyBin } from "./support/envoy.js";
import { startExtProcProcess } from "./support/ext-proc-process.js";
import { grpcHealth } from "./support/grpc-health.js";
import { runCommand } from "./support/run-command.js";
import { waitFor } from "./support/wait-for.js";
import { REPO } from "./support/workspace-packages.js";
import { freePort } from "./support/free-port.js";

type Where = "root" | "scratch";
type Entry =
  /** Runs to completion: exit `code` (0), and the transcript's output when the document shows one. */
  | { run: Where; code?: number; output?: RegExp; script?: readonly string[] }
  /** `... detour-ext-proc --config detour.yaml`: starts, answers health, stops on SIGTERM. */
  | { server: Where }
  /** `PORT=n VERSION=v node examples/dist/<service>.js &`: the port becomes a free one. */
  | { service: true }
  /** The README's quick start: the demo, and every command it prints while it runs. */
  | { demo: true }
  | { skip: string };

const CONTAINER_LANE = "Docker: the container lane (npm run test:containers) runs this against a private daemon";
const KUBERNETES_LANE = "kubectl against a cluster: the Kubernetes lane (npm run test:kubernetes) pipes the rendered stream through kubectl apply --server-side and kubectl delete -f - on a real API server";
const KUBERNETES_CLUSTER = "needs a reader's cluster (with running pods), which no test has";
const BUILT_ALREADY = "npm test's first step; rebuilding while other suites read dist/ would race them";
const ENTRIES: Record<string, Entry> = {
  // README.md
  "npm ci && npm run demo": { demo: true },
  "npm ci && npm test": { skip: "the command that runs this suite" },
  "npx detour validate --topology detour.yaml": { run: "scratch", output: /^detour\.yaml: ok \(1 services?, 2 versions, 1 workloads?\)$/ },
  "npx detour envoy --topology detour.yaml --out envoy/ --validate": { run: "scratch", output: /^wrote envoy\/envoy\.yaml \(envoy --mode validate: OK\)/ },
  'NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=256" npx detour-ext-proc --config detour.yaml': { server: "scratch" },
  // docs/operations.md: tail latency on a shared core
  'NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=256 --v8-pool-size=1" npx detour-ext-proc --config detour.yaml': { server: "scratch" },
  "npx detour explain -H 'x-detour: pricing=v2' --to pricing --from cart/pr-7 --topology detour.yaml": { run: "scratch", output: /Route: cluster pricing@v2 \(override\)/ },
  "npx detour token sign --set 'pricing=v2' --ttl 1h --key ed25519.pem": { run: "scratch", output: /^[\w-]+\.[\w-]+\.[\w-]+$/ },
  // docs/cli.md: running the example services by hand
  "npm run build": { skip: BUILT_ALREADY },
  "envoy -c envoy/envoy.yaml &": {
    skip: "binds the reference layout's fixed ports (10000, 15001-15005, admin 9901); test/cli-generated-files.test.ts generates envoy/envoy.yaml and has Envoy validate it",
  },
  "node --max-semi-space-size=4 --max-old-space-size=256 packages/ext-proc/dist/bin.js --config examples/detour.yaml &": {
    skip: "binds examples/detour.yaml's fixed server ports (50051, 9464); the same binary with the same heap flags starts here from README.md's line (NODE_OPTIONS + npx)",
  },
  "PORT=9302 VERSION=v2 node examples/dist/pricing.js &": { service: true },
  "PORT=9202 VERSION=v2 SIDECAR=127.0.0.1:15003 node examples/dist/catalog.js &": { service: true },
  // docs/containers.md
  "npm ci && npm run build": { skip: `npm ci and the build are this suite's own set-up (${BUILT_ALREADY})` },
  "docker compose up -d": { skip: CONTAINER_LANE },
  "curl -s http://127.0.0.1:10000/": { skip: `${CONTAINER_LANE} (needs the compose stack up)` },
  "curl -s -H 'x-detour: catalog=v2,pricing=v2' http://127.0.0.1:10000/": { skip: `${CONTAINER_LANE} (needs the compose stack up); the demo's own curl lines run here` },
  "docker compose down": { skip: CONTAINER_LANE },
  "npm run test:containers": { skip: "a CI lane of its own (.ci/run)" },
  'eval "$(scripts/docker-up)"': { skip: CONTAINER_LANE },
  "scripts/build-images": { skip: CONTAINER_LANE },
  "docker run --rm --network host envoyproxy/envoy:v1.40.0 --version": { skip: CONTAINER_LANE },
  "docker-compose up -d && curl -s http://127.0.0.1:10000/ && docker-compose down": { skip: CONTAINER_LANE },
  "npx vitest run --config test/containers/vitest.config.ts": { skip: CONTAINER_LANE },
  "scripts/docker-down": { skip: CONTAINER_LANE },
  "npm ci && npm run build && docker compose up": { skip: CONTAINER_LANE },
  // docs/operations.md
  "DETOUR_RELIABILITY=quick npm run test:reliability": { skip: "a CI lane of its own (.ci/run)" },
  "DETOUR_RELIABILITY=full npm run test:reliability": { skip: "the full reliability run takes hours; .ci/run runs the quick profile" },
  "DETOUR_RELIABILITY=full DETOUR_RELIABILITY_KEEP=1 npm run test:reliability": { skip: "the full reliability run takes hours" },
  "DETOUR_SCALE_SERVICES=500 DETOUR_KUBERNETES_TIMEOUT=1800 bash scripts/test-kubernetes test/kubernetes/discovery-scale.test.ts": {
    skip: "fills an API server with 2,500 versions (minutes); the Kubernetes lane (.ci/run) runs the same file at 100 services",
  },
  // docs/kubernetes-discovery.md and packages/cli/README.md: discovery and detour sandbox
  "kubectl -n shop annotate service pricing detour.dev/baseline=v1": { skip: "needs a cluster; test/kubernetes/discovery-*.test.ts set the annotation on a real API server" },
  "kubectl -n detour port-forward svc/detour-ext-proc 9464 &": { skip: "needs a cluster with detour installed" },
  "detour sandbox list": { skip: "reads a running server's GET /status on 127.0.0.1:9464; test/kubernetes/discovery-lifecycle.test.ts runs it against a discovering server" },
  "detour sandbox expire pricing/pr-7": { skip: "writes to a cluster; test/kubernetes/discovery-lifecycle.test.ts runs it against a real API server" },
  // docs/security.md and packages/cli/README.md: keys and tokens
  "detour keys generate --kid 2025-06 --out keys --jwks keys/jwks.json": { run: "scratch" },
  "detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem [--kid K] [--aud A] [--sub alice] [--services pricing]": {
    skip: "a synopsis ([...] marks optional flags); the plain form runs from packages/cli/README.md",
  },
  'detour token verify "$TOKEN" --key keys/jwks.json [--aud A]': { skip: "a synopsis ([...] marks optional flags); the plain form runs from packages/cli/README.md" },
  "detour token sign --set 'pricing=v2' --ttl 15m --key hs.secret --kid hs-1": { run: "scratch", output: /^[\w-]+\.[\w-]+\.[\w-]+$/ },
  "TOKEN=$(detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem --aud shop-edge)": {
    run: "scratch",
    script: [
      "TOKEN=$(detour token sign --set 'pricing=v2' --ttl 1h --key keys/2025-06.key.pem --aud shop-edge)",
      'detour token verify "$TOKEN" --key keys/jwks.json --aud shop-edge',
    ],
    output: /^valid: pricing=v2\n {2}alg EdDSA, kid 2025-06, aud shop-edge\n {2}expires \S+ \(in (?:59m \d+s|1h 0m)\)$/,
  },
  'detour token verify "$TOKEN" --key keys/jwks.json --aud shop-edge': { skip: "runs with the line before it, which sets $TOKEN" },
  'curl -H "x-detour-token: $TOKEN" https://shop.example.com/': { skip: "an example host, not a service of this repository" },
  // packages/cli/README.md: transcripts, compared with the output they show
  "detour validate --topology bad.yaml": { run: "scratch", code: 2 },
  "detour demo": { skip: "shows the message of a second demo while one holds the port; test/demo.test.ts checks that message" },
  "detour envoy --topology examples/detour.yaml --out envoy/ --validate": { run: "scratch" },
  "detour ext-proc-config --topology examples/detour.yaml --listen 0.0.0.0:50051 --out ext-proc.yaml": { run: "scratch" },
  "detour compose --topology examples/detour.yaml --out .": { run: "scratch", output: /^wrote docker-compose\.yml and envoy\/envoy\.yaml\nvalid \(/ },
  "detour explain --topology examples/detour.yaml -H 'x-detour: pricing=v2' -H 'baggage: detour=catalog%3Dv2' --to pricing --from cart/pr-7": { run: "scratch" },
  "detour validate --topology examples/detour.yaml": { run: "scratch" },
  "detour schema --out docs/detour.schema.json": { run: "scratch" },
  // package READMEs: installing from the registry
  "npm install @detour/core": { skip: "installs from the registry: npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/ext-proc": { skip: "installs from the registry: npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/express @detour/otel express @opentelemetry/api": { skip: "npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/express @detour/otel express @opentelemetry/api@1.9": { skip: "npm run test:packages runs it with the packed tarballs, on Node 20" },
  "npm install @detour/fastify @detour/otel fastify @opentelemetry/api": { skip: "npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/messaging @detour/otel @opentelemetry/api kafkajs": { skip: "npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/fastify @detour/otel fastify @opentelemetry/api@1.9": { skip: "npm run test:packages runs it with the packed tarballs, on Node 20" },
  "npm install @detour/otel @opentelemetry/api": { skip: "npm run test:packages runs it with the packed tarballs" },
  "npm install @detour/otel @opentelemetry/api@1.9": { skip: "npm run test:packages runs it with the packed tarballs, on Node 20" },
  "npm install @detour/otel @opentelemetry/api@1.9 @opentelemetry/core@2 @opentelemetry/context-async-hooks@2 @opentelemetry/instrumentation@0.223 @opentelemetry/instrumentation-http@0.223 @opentelemetry/instrumentation-undici@0.33":
    { skip: "npm run test:packages runs it with the packed tarballs" },
  // README.md, docs/kubernetes.md, packages/cli/README.md: installing into a cluster
  "npx detour kubernetes --topology detour.yaml --namespace shop --image registry.example.com/detour-ext-proc:0.1.0 | kubectl apply --server-side --field-manager detour -f -":
    { skip: KUBERNETES_LANE },
  "npx detour kubernetes --topology detour.yaml --namespace shop --image registry.example.com/detour-ext-proc:0.1.0": { run: "scratch", output: /^kind: Deployment$/m },
  "npx detour kubernetes --topology detour.yaml --namespace shop --mode gamma --service-port 8080": { run: "scratch", output: /kind: HTTPRoute\n/ },
  "detour kubernetes --topology examples/detour.yaml --namespace shop --helm-values > values.yaml": {
    run: "scratch",
    script: ["detour kubernetes --topology examples/detour.yaml --namespace shop --helm-values > values.yaml", "grep -q '^namespace: shop$' values.yaml"],
  },
  "detour kubernetes --topology examples/detour.yaml --namespace shop | kubectl apply --server-side --field-manager detour -f -": { skip: KUBERNETES_LANE },
  "kubectl get virtualservices,destinationrules -A -o yaml > existing.yaml": { skip: KUBERNETES_CLUSTER },
  "npx detour kubernetes --topology detour.yaml --namespace shop --existing existing.yaml": {
    run: "scratch",
    script: ["printf 'apiVersion: v1\\nkind: List\\nitems: []\\n' > existing.yaml", "npx detour kubernetes --topology detour.yaml --namespace shop --existing existing.yaml"],
    output: /kind: VirtualService\n/,
  },
  "kubectl -n shop exec deploy/frontend-v1 -c frontend -- curl -s -H 'x-detour: pricing=v2' http://pricing/quote": {
    skip: `${KUBERNETES_CLUSTER}; test/istio sends the same request through Istio-shaped Envoys patched by the rendered EnvoyFilters`,
  },
  'curl -s -H "x-detour-token: $(npx detour token sign --set \'pricing=v2\' --ttl 1h --key keys/2025-06.key.pem)" https://shop.example.com/': {
    skip: "an example host, not a service of this repository; test/istio admits a signed token at an Istio-shaped gateway",
  },
  "npx detour kubernetes --topology detour.yaml --namespace shop | kubectl delete -f -": { skip: KUBERNETES_LANE },
  "kubectl delete -n shop deployment,service,configmap,serviceaccount,poddisruptionbudget,envoyfilter,destinationrule,virtualservice -l app.kubernetes.io/part-of=detour":
    { skip: KUBERNETES_CLUSTER },
  "kubectl delete -n istio-system envoyfilter -l app.kubernetes.io/part-of=detour": { skip: KUBERNETES_CLUSTER },
  "helm uninstall detour --namespace shop": { skip: `${KUBERNETES_CLUSTER}; test/kubernetes/helm-chart.test.ts renders and lints the chart` },
  "flock /tmp/detour-bench.lock node bench/skip-ablation.mjs --reference istio-plain --only istio-routes,istio-detour,istio-skipfilter,istio-override --seconds 4 --rounds 5": {
    skip: "a benchmark (minutes of load on both cores); npm run bench -- --quick runs in .ci/run",
  },
  // docs/containers.md: detour's server image
  'docker build -f deploy/docker/ext-proc.Dockerfile --label org.opencontainers.image.version=0.1.0 -t registry.example.com/detour-ext-proc:0.1.0 "$(scripts/ext-proc-image-context)"': {
    skip: `${CONTAINER_LANE} (scripts/build-images builds this Dockerfile on the context of scripts/ext-proc-image-context)`,
  },
  "docker push registry.example.com/detour-ext-proc:0.1.0": { skip: "pushes to a registry of the reader's; no registry is reachable from a test" },
  'docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges -v "$PWD/etc-detour:/etc/detour:ro" -p 50051:50051 -p 9464:9464 detour-ext-proc:0.1.0': {
    skip: `${CONTAINER_LANE} (test/containers/ext-proc-image.test.ts runs the image read-only with capabilities dropped)`,
  },
  // packages/ext-proc/README.md: development
  "npx vitest run packages/ext-proc": { skip: "part of npm test (this run)" },
  "npx vitest run test/ext-proc": { skip: "part of npm test (this run)" },
  "UPDATE_GOLDEN=1 npx vitest run packages/cli/src/envoy-config": { skip: "rewrites golden files in the repository; the same tests run in npm test without UPDATE_GOLDEN" },
  // docs/messaging.md
  "npm run test:messaging": { skip: "the messaging lanes of .ci/run run it (scripts/test-messaging): Kafka, RabbitMQ and NATS brokers and minutes of traffic" },
  "scripts/test-messaging 22": { skip: "a messaging lane of .ci/run" },
  "scripts/test-messaging 24 test/messaging/propagation.test.ts": { skip: "a messaging lane of .ci/run" },
  '"$(scripts/install-node 22)" bench/messaging.ts --messages 20000 --rounds 5': { skip: "a benchmark (minutes of broker load, reported, never asserted)" },
  [[
    "node bench/server-cpu.mjs --servers detour@24",
    `--variant '{"id":"semi2","node":"24","nodeArgs":["--max-semi-space-size=2","--max-old-space-size=256"]}'`,
    `--variant '{"id":"semi1","node":"24","nodeArgs":["--max-semi-space-size=1","--max-old-space-size=256"]}'`,
    `--variant '{"id":"semi2-old128","node":"24","nodeArgs":["--max-semi-space-size=2","--max-old-space-size=128"]}'`,
  ].join(" ")]: { skip: "a benchmark (minutes of load on both cores, reported, never asserted)" },
};

const documented = documentedCommands();
/** The first place each distinct command is printed; it runs once. */
const distinct = documented.filter((doc, index) => documented.findIndex((other) => other.command === doc.command) === index);

let scratch: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  scratch = mkdtempSync(join(REPO, ".docs-run-"));
  // The README's own detour.yaml, its server on any free ports instead of 50051 and 9464.
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const topology = /```yaml\n(# detour\.yaml\n[\s\S]*?)```/.exec(readme)?.[1];
  if (topology === undefined) throw new Error("README.md shows no detour.yaml block");
  writeFileSync(join(scratch, "detour.yaml"), topology.replace(/(listen|metrics): 127\.0\.0\.1:\d+/g, "$1: 127.0.0.1:0"));
  writeFileSync(join(scratch, "ed25519.pem"), generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(join(scratch, "hs.secret"), randomBytes(48).toString("base64url"));
  // packages/cli/README.md's bad.yaml: the baseline on line 3, column 15, is not a version.
  writeFileSync(join(scratch, "bad.yaml"), "services:\n  pricing:\n    baseline: v3\n    versions: { v1: { endpoint: 127.0.0.1:8080 } }\n");
  symlinkSync("../examples", join(scratch, "examples"));
  mkdirSync(join(scratch, "docs"));
  env = { PATH: `${join(REPO, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}`, ENVOY_BIN: await envoyBin(), npm_config_yes: "false", NO_COLOR: "1" };
}, 600_000);
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

const cwdOf = (where: Where) => (where === "root" ? REPO : scratch);

it("every documented command has an entry here, and every entry is documented", () => {
  const missing = distinct.filter((doc) => !(doc.command in ENTRIES)).map((doc) => `${doc.where}: ${doc.command}`);
  expect(missing, "add an entry (how to run it, or why it cannot run in a test)").toEqual([]);
  const stale = Object.keys(ENTRIES).filter((command) => !distinct.some((doc) => doc.command === command));
  expect(stale, "entries for commands no document prints").toEqual([]);
  for (const [command, entry] of Object.entries(ENTRIES)) if ("skip" in entry) expect(entry.skip.length, command).toBeGreaterThan(10);
});

/** The output a transcript shows, up to a `...` line (the rest elided). */
function shownOutput(doc: DocCommand): { text: string; prefix: boolean } | undefined {
  if (doc.output === undefined || doc.output.length === 0) return undefined;
  const cut = doc.output.indexOf("...");
  return { text: (cut === -1 ? doc.output : doc.output.slice(0, cut)).join("\n"), prefix: cut !== -1 };
}

async function runToCompletion(doc: DocCommand, entry: Extract<Entry, { run: Where }>): Promise<void> {
  const script = (entry.script ?? [doc.command]).join("\n");
  const result = await runCommand("sh", ["-ec", script], { cwd: cwdOf(entry.run), env, timeoutMs: 120_000 });
  const output = `${result.stdout}${result.stderr}`.trimEnd();
  expect(result.code, `${doc.where}: ${doc.command}\n${output}`).toBe(entry.code ?? 0);
  if (entry.output !== undefined) expect(output).toMatch(entry.output);
  const shown = entry.script === undefined ? shownOutput(doc) : undefined;
  if (shown === undefined) return;
  if (shown.prefix) expect(output.startsWith(shown.text), `${doc.where} shows:\n${shown.text}\nthe command printed:\n${output}`).toBe(true);
  else expect(output, `${doc.where} shows this output`).toBe(shown.text);
}

async function runServer(doc: DocCommand, where: Where): Promise<void> {
  const { env: assignments, argv } = parseSimpleCommand(doc.command);
  const command = { file: argv[0]!, args: argv.slice(1), cwd: cwdOf(where), env: { ...env, ...assignments } };
  const server = await startExtProcProcess(join(cwdOf(where), "detour.yaml"), { command });
  try {
    expect(await grpcHealth(server.grpcPort, "")).toBe("SERVING");
    expect((await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`)).status).toBe(200);
    if ("NODE_OPTIONS" in assignments) expect(server.logs.filter((line) => String(line.msg).includes("heap flags"))).toEqual([]);
    server.signal("SIGTERM");
    await waitFor(() => server.logs.some((line) => line.msg === "detour ext_proc server stopped"), { what: "the server's graceful stop" });
  } finally {
    await server.kill();
  }
}

async function runService(doc: DocCommand): Promise<void> {
  const { env: assignments, argv } = parseSimpleCommand(doc.command.replace(/\s*&$/, ""));
  const port = await freePort();
  const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO, env: { ...process.env, ...env, ...assignments, PORT: String(port) }, stdio: "ignore" });
  try {
    const health = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as Promise<{ service: string; version: string }>, { what: `${doc.command} to answer` });
    expect(health).toMatchObject({ version: assignments.VERSION, service: /examples\/dist\/(\w+)\.js/.exec(doc.command)?.[1] });
  } finally {
    child.kill("SIGTERM");
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm run demo`, kept running: every command it prints must work, then Ctrl-C stops it all. */
async function runDemo(): Promise<void> {
  // The edge on a free port: the demo's default, the topology's 10000, may be taken on a shared machine.
  const child = spawn("npm", ["run", "demo", "--", "--port", "0"], { cwd: REPO, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitFor(() => stdout.includes("Press Ctrl-C to stop every process.") || (child.exitCode !== null && Promise.reject(new Error(`npm run demo exited ${child.exitCode}:\n${stderr}`))), {
      what: "the demo to print its try-it banner",
      timeoutMs: 300_000,
    });
    const printed = [
      ...[...stdout.matchAll(/^ {3}\$ (curl .*)$/gm)].map((match) => match[1]!),
      ...[...stdout.matchAll(/^(?:Try: +| {6}(?:mint another: +)?)((?:curl|npx) .*)$/gm)].map((match) => match[1]!),
    ];
    expect(printed.filter((command) => command.startsWith("curl")).length).toBeGreaterThanOrEqual(10);
    expect(printed.filter((command) => command.startsWith("npx detour explain"))).toHaveLength(1);
    expect(printed.filter((command) => command.startsWith("npx detour token sign"))).toHaveLength(1);
    for (const command of printed) {
      const result = await runCommand("sh", ["-ec", command], { cwd: REPO, env, timeoutMs: 60_000 });
      expect(result.code, `the demo printed: ${command}\n${result.stdout}${result.stderr}`).toBe(0);
      if (command.startsWith("curl")) expect(JSON.parse(result.stdout), command).toHaveProperty("service");
      if (command.startsWith("npx detour explain")) expect(result.stdout).toContain("Route: cluster catalog@v2");
      if (command.startsWith("npx detour token sign")) expect(result.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    // Ctrl-C: the terminal sends SIGINT to npm and the demo (one process group); npm dies of it,
    // the demo stops every process it started and removes its run directory.
    const runDir = /this run's configs: (\S+)/.exec(stdout)?.[1];
    expect(runDir).toBeDefined();
    process.kill(-child.pid!, "SIGINT");
    await exited;
    await waitFor(() => !groupAlive(child.pid!) && !existsSync(runDir!), { what: "the demo to stop everything", timeoutMs: 30_000 });
    expect(stderr).toContain("SIGINT: stopping");
  } finally {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // the demo and its npm are gone already
    }
  }
}

describe("documented commands, as printed", () => {
  it.each(distinct.filter((doc) => !("skip" in (ENTRIES[doc.command] ?? { skip: "" }))).map((doc) => [`${doc.where}: ${doc.command}`, doc] as const))(
    "%s",
    async (_name, doc) => {
      const entry = ENTRIES[doc.command]!;
      if ("run" in entry) await runToCompletion(doc, entry);
      else if ("server" in entry) await runServer(doc, entry.server);
      else if ("service" in entry) await runService(doc);
      else if ("demo" in entry) await runDemo();
      if (doc.command.includes("--out envoy/")) expect(existsSync(join(scratch, "envoy/envoy.yaml"))).toBe(true);
      if (doc.command.startsWith("detour schema")) expect(readFileSync(join(scratch, "docs/detour.schema.json"), "utf8")).toBe(readFileSync(join(REPO, "docs/detour.schema.json"), "utf8"));
    },
    420_000,
  );
});
