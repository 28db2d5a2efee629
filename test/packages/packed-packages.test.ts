// The packages as users get them: `npm pack` of every publishable package, then ONE `npm install`
// of the tarballs with what a user adds (express, fastify, @opentelemetry/api, and TypeScript with
// its type packages) in a project outside the workspace. Then: ESM import and CommonJS require of
// every export entry, the names the READMEs import, types under moduleResolution node16 and
// bundler (and a CommonJS consumer under nodenext), the installed bins, the server answering
// health, an override carried end to end, and publint / arethetypeswrong on every tarball.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentedCommands, documentedFiles, parseSimpleCommand } from "../support/doc-commands.js";
import { startExtProcProcess } from "../support/ext-proc-process.js";
import { grpcHealth } from "../support/grpc-health.js";
import { waitFor } from "../support/wait-for.js";
import { runCommand } from "../support/run-command.js";
import { publishablePackages, REPO } from "../support/workspace-packages.js";
import { packWorkspaces } from "./support/packed-workspaces.js";
import {
  createUserProject,
  INSTALL_TIMEOUT_MS,
  installedFromTarball,
  installFailure,
  npmInstall,
  openTelemetryLine,
  type UserProject,
} from "./support/user-project.js";

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
/** The server and the CLI declare Node >= 22 (their package.json engines). */
const SERVER_SUPPORTED = NODE_MAJOR >= 22;
/** npm picks OpenTelemetry JS 3.x where its engines (Node >= 22.15) allow it, else 2.x. */
const EXPECTED_LINE = NODE_MAJOR > 22 || (NODE_MAJOR === 22 && Number(process.versions.node.split(".")[1]) >= 15) ? 3 : 2;

const packages = publishablePackages();
const names = packages.map((pkg) => pkg.manifest.name);
/**
 * What a user adds next to the packages: the frameworks, @opentelemetry/api, the OpenTelemetry
 * instrumentations (optional peers of @detour/otel, for `outbound: "opentelemetry"`), the broker clients
 * @detour/messaging's entry points wrap (optional peers), and for TypeScript users typescript with
 * the type packages (@types/ws for @kubernetes/client-node's isomorphic-ws, which ships none).
 */
const USER_ADDS = [
  "express",
  "fastify",
  "@opentelemetry/api",
  "@opentelemetry/instrumentation",
  "@opentelemetry/instrumentation-http",
  "@opentelemetry/instrumentation-undici",
  "kafkajs",
  "@platformatic/kafka",
  "amqplib",
  "@nats-io/transport-node",
  "@nats-io/jetstream",
  "typescript@~5.9.3",
  `@types/node@${NODE_MAJOR}`,
  "@types/express@5",
  "@types/ws",
];
const CARRY_OVERRIDE = fileURLToPath(new URL("./fixtures/carry-override.mjs", import.meta.url));

/** `@detour/x` plus every subpath its exports map names (except ./package.json). */
const specifiers = packages.flatMap(({ manifest }) =>
  Object.keys(manifest.exports ?? { ".": "" })
    .filter((entry) => entry !== "./package.json")
    .map((entry) => (entry === "." ? manifest.name : `${manifest.name}${entry.slice(1)}`)),
);

/**
 * Every `import { a, b } from "@detour/x"` in the documentation, as specifier -> names; with
 * `values`, only the names imported as values (types have nothing to find at run time).
 */
function documentedImports(which: "all" | "values" = "all"): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of documentedFiles()) {
    const text = readFileSync(join(REPO, file), "utf8");
    for (const match of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(@detour\/[^"]+)"/g)) {
      const set = out.get(match[3]!) ?? new Set<string>();
      for (const part of match[2]!.split(",")) {
        const isType = match[1] !== undefined || /^type\s/.test(part.trim());
        const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]!;
        if (name !== "" && (which === "all" || !isType)) set.add(name);
      }
      if (set.size > 0) out.set(match[3]!, set);
    }
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), "detour-packed-"));
let tarballs: Map<string, string>;
let project: UserProject;

beforeAll(async () => {
  tarballs = await packWorkspaces(dir);
  project = createUserProject("all");
  const result = await npmInstall(project, [...names, ...USER_ADDS], tarballs);
  console.info(`one npm install of ${names.length} tarballs + ${USER_ADDS.join(" ")} on Node ${process.version}: ${(result.ms / 1000).toFixed(1)} s`);
  if (result.code !== 0) throw new Error(installFailure(result));
}, INSTALL_TIMEOUT_MS + 120_000);

afterAll(() => {
  project?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `node --input-type=module|commonjs -e code` in the project; its stdout as JSON. */
async function nodeIn(code: string, type: "module" | "commonjs"): Promise<unknown> {
  const result = await runCommand(process.execPath, [`--input-type=${type}`, "-e", code], { cwd: project.dir, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as unknown;
}

describe("the one npm install", () => {
  it("installs every package from its tarball, with one OpenTelemetry line", async () => {
    for (const name of names) expect(installedFromTarball(project, name), name).toBe(true);
    const tree = await project.tree();
    expect(tree.problems ?? []).toEqual([]);
    expect(openTelemetryLine(tree)).toEqual({ line: EXPECTED_LINE });
  });
});

describe("module formats", () => {
  it("ESM import of every export entry", async () => {
    const code = `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s)); console.log(JSON.stringify(out));`;
    const exported = (await nodeIn(code, "module")) as Record<string, string[]>;
    for (const specifier of specifiers) expect(exported[specifier]?.length, specifier).toBeGreaterThan(0);
  });

  it("CommonJS require of every export entry (Node's require of ES modules)", async () => {
    const code = `const out = {}; for (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(require(s)); console.log(JSON.stringify(out));`;
    const exported = (await nodeIn(code, "commonjs")) as Record<string, string[]>;
    for (const specifier of specifiers) expect(exported[specifier]?.length, specifier).toBeGreaterThan(0);
  });

  it("every value the READMEs import is exported", async () => {
    const documented = documentedImports("values");
    expect(documented.size).toBeGreaterThan(0);
    const code = `const out = {}; for (const s of ${JSON.stringify([...documented.keys()])}) out[s] = Object.keys(await import(s)); console.log(JSON.stringify(out));`;
    const exported = (await nodeIn(code, "module")) as Record<string, string[]>;
    for (const [specifier, wanted] of documented) expect(exported[specifier], specifier).toEqual(expect.arrayContaining([...wanted]));
  });
});

describe("types", () => {
  /**
   * A consumer that imports every export entry and every documented name. The documented names
   * are imported, not used: an import of a name a package does not export fails to compile, and
   * some of them are types, which have no value to use.
   */
  function consumer(): string {
    const lines = specifiers.map((specifier, index) => `import * as entry${index} from "${specifier}";`);
    [...documentedImports()].forEach(([specifier, wanted], index) => lines.push(`import { ${[...wanted].map((name) => `${name} as doc${index}_${name}`).join(", ")} } from "${specifier}";`));
    lines.push(`export const used: unknown[] = [${specifiers.map((_s, index) => `entry${index}`).join(", ")}];`);
    return `${lines.join("\n")}\n`;
  }

  it.each([
    ["node16 (ESM consumer)", { module: "node16", moduleResolution: "node16" }, "consumer.mts"],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }, "consumer.ts"],
    ["nodenext (CommonJS consumer: require of ES modules)", { module: "nodenext", moduleResolution: "nodenext" }, "consumer.cts"],
  ])("compile under moduleResolution %s, library types checked", async (label, options, file) => {
    writeFileSync(join(project.dir, file), consumer());
    const tsconfig = `tsconfig.${file}.json`;
    const compilerOptions = { ...options, target: "es2022", strict: true, noEmit: true, skipLibCheck: false, types: ["node"] };
    writeFileSync(join(project.dir, tsconfig), JSON.stringify({ compilerOptions, files: [file] }, null, 2));
    const result = await runCommand(process.execPath, ["node_modules/typescript/bin/tsc", "-p", tsconfig], { cwd: project.dir, timeoutMs: 180_000 });
    // Errors inside other packages' declaration files (e.g. a broker client's types that assume
    // a newer @types/node) are theirs; every error in the consumer or in detour's types fails.
    const errors = `${result.stdout}${result.stderr}`.split("\n").filter((line) => /error TS\d+/.test(line));
    const ours = errors.filter((line) => !line.startsWith("node_modules/") || line.startsWith("node_modules/@detour/"));
    expect(ours, `${label}:\n${result.stdout}${result.stderr}`).toEqual([]);
    if (errors.length === 0) expect(result.code, `${label}:\n${result.stdout}${result.stderr}`).toBe(0);
  }, 200_000);
});

describe.skipIf(!SERVER_SUPPORTED)("installed bins (Node >= 22)", () => {
  it.each([
    ["detour", /^Usage: detour /],
    ["detour-ext-proc", /^usage: detour-ext-proc --config/],
  ])("npx %s --help", async (bin, usage) => {
    const result = await runCommand("npx", ["--no", "--", bin, "--help"], { cwd: project.dir, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(usage);
  });

  it("the README's `npx detour-ext-proc --config detour.yaml` starts, answers gRPC health and /healthz, and stops on SIGTERM", async () => {
    const printed = documentedCommands().find((doc) => doc.where.startsWith("packages/ext-proc/README.md") && doc.command.includes("npx detour-ext-proc --config detour.yaml"));
    expect(printed, "packages/ext-proc/README.md prints how to start the server").toBeDefined();
    const config = join(project.dir, "detour.yaml");
    writeFileSync(config, "services:\n  pricing:\n    baseline: v1\n    versions:\n      v1: { endpoint: 127.0.0.1:8080 }\nserver: { listen: 127.0.0.1:0, metrics: 127.0.0.1:0 }\n");
    // npm_config_yes=false: should the local bin be missing, npx must fail, not fetch a package.
    const { env, argv } = parseSimpleCommand(printed!.command);
    const command = { file: argv[0]!, args: argv.slice(1), cwd: project.dir, env: { ...env, npm_config_yes: "false" } };
    const server = await startExtProcProcess(config, { command });
    try {
      expect(await grpcHealth(server.grpcPort, "")).toBe("SERVING");
      expect((await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`)).status).toBe(200);
      // NODE_OPTIONS reached the server: it did not log that the heap flags are missing.
      expect(server.logs.filter((line) => String(line.msg).includes("heap flags"))).toEqual([]);
      // Ctrl-C's SIGTERM reaches npx and the server (one process group); npx dies of it, the
      // server stops gracefully.
      server.signal("SIGTERM");
      await waitFor(() => server.logs.some((line) => line.msg === "detour ext_proc server stopped"), { what: "the server's graceful stop" });
    } finally {
      await server.kill();
    }
  }, 60_000);
});

it.each([
  ["light", {}],
  ["opentelemetry", { DETOUR_OUTBOUND: "opentelemetry" }],
])(`the installed packages carry an override through node:http, Express and Fastify (outbound %s, OpenTelemetry JS ${EXPECTED_LINE}.x)`, async (outbound, env) => {
  copyFileSync(CARRY_OVERRIDE, join(project.dir, "carry-override.mjs"));
  const result = await runCommand(process.execPath, ["carry-override.mjs"], { cwd: project.dir, timeoutMs: 60_000, env });
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { outbound: string; tried: string[]; hits: Array<{ path: string; detour: string | null; baggage: string | null }> };
  expect(report.outbound).toBe(outbound);
  expect(report.tried).toEqual(["node:http", "express", "fastify"]);
  expect(report.hits).toHaveLength(6);
  for (const hit of report.hits) expect(hit, hit.path).toMatchObject({ detour: "pricing=v2", baggage: "detour=pricing%3Dv2" });
}, 90_000);

describe("tarball linters", () => {
  it.each(names.map((name) => [name]))("publint --strict %s", async (name) => {
    const result = await runCommand("npx", ["--no", "--", "publint", "--strict", tarballs.get(name)!], { cwd: REPO, timeoutMs: 60_000, env: { NO_COLOR: "1" } });
    console.info(result.stdout.trim());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("All good!");
  });

  // ESM only, by design: one copy of @detour/otel's module state. CommonJS callers load it with
  // Node's require of ES modules (Node >= 20.19 / 22.12), which TypeScript models under
  // module nodenext (checked above). attw's esm-only profile leaves out the rows that predate
  // that: node10 (which cannot resolve subpath exports) and node16 from CommonJS.
  it.each(names.map((name) => [name]))("attw %s", async (name) => {
    const result = await runCommand("npx", ["--no", "--", "attw", tarballs.get(name)!, "--profile", "esm-only", "--format", "ascii"], { cwd: REPO, timeoutMs: 60_000, env: { NO_COLOR: "1", FORCE_COLOR: "0" } });
    console.info(result.stdout.trim());
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});
