// Every `npm install @detour/...` line the documentation prints, run as printed in a fresh project
// outside the workspace (the packed tarballs stand in for the unpublished @detour names), on the
// Node line its comment names (Node 20, else Node 24): it must finish within the bound, hold one
// OpenTelemetry line, and the installed packages must carry an override end to end. Plus the
// install npm could spin on for minutes: the libraries with an unversioned @opentelemetry/api on Node 20.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { documentedCommands } from "../support/doc-commands.js";
import { runCommand } from "../support/run-command.js";
import { REPO } from "../support/workspace-packages.js";
import { packWorkspaces } from "./support/packed-workspaces.js";
import { createUserProject, INSTALL_TIMEOUT_MS, installFailure, npmInstall, openTelemetryLine } from "./support/user-project.js";

const CARRY_OVERRIDE = fileURLToPath(new URL("./fixtures/carry-override.mjs", import.meta.url));
const installLines = documentedCommands().filter((doc) => /^npm install\s/.test(doc.command) && doc.command.includes("@detour/"));

const nodeBins = new Map<number, string>();
/** The Node binary of a release line (scripts/install-node; cached outside git). */
function nodeBin(major: 20 | 24): string {
  if (!nodeBins.has(major)) nodeBins.set(major, execFileSync(join(REPO, "scripts/install-node"), [String(major)], { encoding: "utf8" }).trim());
  return nodeBins.get(major)!;
}

const dir = mkdtempSync(join(tmpdir(), "detour-readme-installs-"));
let tarballs: Map<string, string>;
beforeAll(async () => {
  tarballs = await packWorkspaces(dir);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Installs `specs` with `node` first on PATH in a fresh project; when @detour/otel is in the
 * tree, checks the OpenTelemetry line and that an override is carried through node:http and
 * whichever framework glue was installed.
 */
async function installAndUse(label: string, specs: string[], major: 20 | 24, line: 2 | 3 | "overridden" | undefined): Promise<void> {
  const node = nodeBin(major);
  const project = createUserProject(label);
  try {
    const result = await npmInstall(project, specs, tarballs, node);
    console.info(`npm install ${specs.join(" ")} on Node ${major}: ${(result.ms / 1000).toFixed(1)} s${result.code === 0 ? "" : ` (exit ${result.code})`}`);
    expect(result.code, installFailure(result)).toBe(0);
    if (line === undefined) return;
    if (line === "overridden") {
      // npm takes api 1.10 and the 2.x line's core together, and says so: the tree it warns about.
      expect(result.stderr).toContain("ERESOLVE overriding peer dependency");
      expect(openTelemetryLine(await project.tree())).toEqual({ problem: expect.stringMatching(/^api 1\.10\.\d+ \(line 3\) with @opentelemetry\/core@2\./) as unknown as string });
    } else {
      expect(openTelemetryLine(await project.tree())).toEqual({ line });
    }
    copyFileSync(CARRY_OVERRIDE, join(project.dir, "carry-override.mjs"));
    const run = await runCommand(node, ["carry-override.mjs"], { cwd: project.dir, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { node: string; tried: string[]; hits: Array<{ path: string; detour: string | null; baggage: string | null }> };
    expect(report.node).toMatch(new RegExp(`^v${major}\\.`));
    const frameworks = ["express", "fastify"].filter((name) => specs.includes(name));
    expect(report.tried).toEqual(["node:http", ...frameworks]);
    expect(report.hits).toHaveLength(2 * report.tried.length);
    for (const hit of report.hits) expect(hit, hit.path).toMatchObject({ detour: "pricing=v2", baggage: "detour=pricing%3Dv2" });
  } finally {
    project.remove();
  }
}

it("the documentation prints install lines for every library", () => {
  const installed = installLines.flatMap((doc) => doc.command.split(/\s+/)).filter((word) => word.startsWith("@detour/"));
  expect(new Set(installed)).toEqual(new Set(["@detour/core", "@detour/ext-proc", "@detour/otel", "@detour/express", "@detour/fastify", "@detour/messaging"]));
});

it.each(installLines.map((doc) => [`${doc.where}: ${doc.command}`, doc] as const))(
  "%s",
  async (_name, doc) => {
    expect(doc.command, "install lines are plain words (no quoting to interpret)").not.toMatch(/["'$`\\]/);
    const specs = doc.command.split(/\s+/).slice(2);
    const major = /\bNode 20\b/.test(doc.comment) ? 20 : 24;
    const withOtel = specs.some((spec) => ["@detour/otel", "@detour/express", "@detour/fastify"].includes(spec));
    const line = !withOtel ? undefined : specs.includes("@opentelemetry/api@1.9") ? 2 : 3;
    await installAndUse(doc.where.replace(/[^\w]+/g, "-"), specs, major, line);
  },
  INSTALL_TIMEOUT_MS + 120_000,
);

// The README's Node 20 lines name @opentelemetry/api@1.9. Typed without it, the install must
// still finish in seconds and work; npm then pairs api 1.10 with core 2.x (whose engines allow
// Node 20) and prints its ERESOLVE peer warning, which is what tells the user to name 1.9.
it(
  "Node 20: the libraries with an unversioned @opentelemetry/api install in seconds, npm warns of the peer it overrides, and overrides are carried",
  async () => {
    const specs = ["@detour/core", "@detour/otel", "@detour/express", "@detour/fastify", "express", "fastify", "@opentelemetry/api"];
    await installAndUse("node20-unversioned-api", specs, 20, "overridden");
  },
  INSTALL_TIMEOUT_MS + 120_000,
);
