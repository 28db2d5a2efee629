import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, type CommandResult } from "../../support/run-command.js";
import { REPO } from "../../support/workspace-packages.js";

/** An npm install that npm's resolver cannot finish is stopped here and fails the test. */
export const INSTALL_TIMEOUT_MS = 240_000;

/** A fresh npm project outside the workspace (no workspace links can reach it). */
export interface UserProject {
  readonly dir: string;
  /** What its npm install printed and how long it took. */
  install: CommandResult | undefined;
  /** `npm ls --all --json` of the project. */
  tree(): Promise<NpmTree>;
  remove(): void;
}

export interface NpmTree {
  readonly version?: string;
  readonly dependencies?: Record<string, NpmTree>;
  readonly problems?: string[];
}

export function createUserProject(prefix: string): UserProject {
  const dir = mkdtempSync(join(tmpdir(), `detour-user-${prefix}-`));
  if (dir.startsWith(REPO)) throw new Error(`${dir} is inside the workspace`);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "detour-user-project", version: "1.0.0", private: true }, null, 2)}\n`);
  return {
    dir,
    install: undefined,
    async tree() {
      const result = await runCommand("npm", ["ls", "--all", "--json"], { cwd: dir, timeoutMs: 60_000 });
      return JSON.parse(result.stdout) as NpmTree;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * `npm install <specs>` in the project, as a user types it (no flags that change resolution),
 * bounded by INSTALL_TIMEOUT_MS. `@detour/<name>` specs become the packed tarballs: the names are
 * not published, and tarballs are what a registry would serve. The @detour packages the command
 * does not name (dependencies of those it does) come from their tarballs through `overrides`.
 */
export async function npmInstall(project: UserProject, specs: readonly string[], tarballs: ReadonlyMap<string, string>, nodeBin?: string): Promise<CommandResult> {
  const args = specs.map((spec) => tarballs.get(spec) ?? spec);
  const unknown = args.filter((arg) => arg.startsWith("@detour/"));
  if (unknown.length > 0) throw new Error(`no tarball for ${unknown.join(", ")}`);
  const manifestPath = join(project.dir, "package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
  const overrides = Object.fromEntries([...tarballs].filter(([name]) => !specs.includes(name)).map(([name, path]) => [name, `file:${path}`]));
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, overrides }, null, 2)}\n`);
  const result = await runCommand("npm", ["install", "--no-audit", "--no-fund", ...args], { cwd: project.dir, timeoutMs: INSTALL_TIMEOUT_MS, nodeBin });
  project.install = result;
  return result;
}

export function installFailure(result: CommandResult): string {
  if (result.timedOut) return `npm install did not finish within ${INSTALL_TIMEOUT_MS / 1000} s (stopped); last output:\n${result.stderr.slice(-4_000)}`;
  return `npm install exited ${result.code}:\n${result.stderr.slice(-4_000)}`;
}

/** Every version of `name` in the tree, with the path that reached it. */
export function versionsOf(tree: NpmTree, name: string, path = "root"): Array<{ version: string; path: string }> {
  const out: Array<{ version: string; path: string }> = [];
  for (const [dep, node] of Object.entries(tree.dependencies ?? {})) {
    if (dep === name && node.version !== undefined) out.push({ version: node.version, path: `${path} > ${dep}` });
    out.push(...versionsOf(node, name, `${path} > ${dep}`));
  }
  return out;
}

/**
 * The OpenTelemetry JS line a tree holds, or the reason it holds none: one @opentelemetry/api,
 * and every @opentelemetry/core, context-async-hooks and instrumentation package from the line
 * that api belongs to (2.x with api 1.9, 3.x with api 1.10).
 */
export function openTelemetryLine(tree: NpmTree): { line: 2 | 3 } | { problem: string } {
  const apis = [...new Set(versionsOf(tree, "@opentelemetry/api").map((found) => found.version))];
  if (apis.length !== 1) return { problem: `@opentelemetry/api versions: ${apis.join(", ") || "none"}` };
  const line = apis[0]!.startsWith("1.9.") ? 2 : apis[0]!.startsWith("1.10.") ? 3 : undefined;
  if (line === undefined) return { problem: `@opentelemetry/api ${apis[0]} belongs to no supported line` };
  const instrumentationMinor = line === 2 ? /^0\.2\d\d\./ : /^0\.3\d\d\./;
  const wrong: string[] = [];
  for (const name of ["@opentelemetry/core", "@opentelemetry/context-async-hooks"]) {
    for (const found of versionsOf(tree, name)) if (!found.version.startsWith(`${line}.`)) wrong.push(`${name}@${found.version} (${found.path})`);
  }
  for (const name of ["@opentelemetry/instrumentation", "@opentelemetry/instrumentation-http"]) {
    for (const found of versionsOf(tree, name)) if (!instrumentationMinor.test(found.version)) wrong.push(`${name}@${found.version} (${found.path})`);
  }
  return wrong.length === 0 ? { line } : { problem: `api ${apis[0]} (line ${line}) with ${wrong.join(", ")}` };
}

/** The project's installed copy of a package is a real directory from a tarball, not a workspace link. */
export function installedFromTarball(project: UserProject, name: string): boolean {
  const manifest = join(project.dir, "node_modules", name, "package.json");
  if (!existsSync(manifest)) return false;
  const lock = JSON.parse(readFileSync(join(project.dir, "package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string; link?: boolean }> };
  const entry = lock.packages[`node_modules/${name}`];
  return entry !== undefined && entry.link !== true && (entry.resolved ?? "").endsWith(".tgz");
}
