import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { publishablePackages, REPO } from "../../support/workspace-packages.js";

const run = promisify(execFile);

/** `npm pack` of every publishable workspace package into `dest`: package name -> tarball path. */
export async function packWorkspaces(dest: string): Promise<Map<string, string>> {
  const workspaces = publishablePackages().flatMap((pkg) => ["-w", pkg.dir]);
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dest, ...workspaces], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout) as Array<{ name: string; filename: string }>;
  return new Map(packed.map((entry) => [entry.name, join(dest, entry.filename)]));
}
