import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DetourError } from "@detour/core";

/** Where the demo's parts live in the repository (`detour demo` runs from a clone). */
export interface RepoLayout {
  readonly root: string;
  /** examples/: the services' sources, built into examples/dist. */
  readonly examplesDir: string;
  readonly topology: string;
  readonly requests: string;
  /** The ext_proc server binary (built). */
  readonly extProcBin: string;
}

/** The repository this CLI belongs to: packages/cli/{src,dist}/demo/ is four levels below it. */
export function repoLayout(root = fileURLToPath(new URL("../../../../", import.meta.url))): RepoLayout {
  return {
    root,
    examplesDir: join(root, "examples"),
    topology: join(root, "examples", "detour.yaml"),
    requests: join(root, "examples", "demo-requests.yaml"),
    extProcBin: join(root, "packages", "ext-proc", "dist", "bin.js"),
  };
}

/** The built entry of one example service, e.g. examples/dist/pricing.js. */
export function exampleScript(layout: RepoLayout, service: string): string {
  return join(layout.examplesDir, "dist", `${service}.js`);
}

/** Throws a DetourError saying what to build when a built file the demo runs is missing. */
export function assertBuilt(paths: readonly string[]): void {
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new DetourError("demo-not-built", `the demo needs built files that are missing (${missing.join(", ")}): run npm run build first (npm run demo does)`);
  }
}
