import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The parts of a package.json the packaging checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory?: string };
  type?: string;
  engines?: { node?: string };
  sideEffects?: boolean | string[];
  main?: string;
  types?: string;
  exports?: Record<string, string | Record<string, string>>;
  files?: string[];
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface WorkspacePackage {
  /** Directory relative to the repository root, e.g. packages/core. */
  readonly dir: string;
  readonly manifest: Manifest;
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

export const rootManifest = (): Manifest & { workspaces: string[] } => readManifest(REPO) as Manifest & { workspaces: string[] };

/** Every workspace package that is published (not private), in the root's workspace order. */
export function publishablePackages(): WorkspacePackage[] {
  return rootManifest()
    .workspaces.map((dir) => ({ dir, manifest: readManifest(join(REPO, dir)) }))
    .filter((pkg) => pkg.manifest.private !== true);
}
