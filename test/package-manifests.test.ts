// The package.json of every publishable workspace package, checked against what npm packs and
// what the workspace installed: the fields a user's tools read (exports, types, engines,
// sideEffects, license, repository), bin launchers that exist before a build, and engines that
// every runtime dependency agrees with. The packed tarballs themselves are installed and used in
// test/packages (npm run test:packages).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import semver from "semver";
import { beforeAll, describe, expect, it } from "vitest";
import { publishablePackages, readManifest, REPO, rootManifest, type Manifest } from "./support/workspace-packages.js";

const packages = publishablePackages();

/** Node lines each kind of package supports: the libraries keep Node 20; the server and CLI need 22. */
const LIBRARY_ENGINES = ">=20.6";
const SERVER_AND_CLI_ENGINES = ">=22";
const expectedEngines = (manifest: Manifest) => (manifest.bin === undefined ? LIBRARY_ENGINES : SERVER_AND_CLI_ENGINES);

/**
 * Runtime dependencies whose own `engines` are narrower than the package that reaches them,
 * each with the reason that does not make the package's claim dishonest.
 */
const ENGINES_EXCEPTIONS: Record<string, string> = {
  cookie:
    "cookie 2 (Node >= 22) is reached only through fastify -> light-my-request, which fastify loads lazily for fastify.inject(); serving requests never loads it",
  undici:
    "undici 8 (Node >= 22.19) is reached only through @kubernetes/client-node, which the server imports only for a kubernetes section and the CLI only for `detour sandbox expire`, each after refusing an older Node with the version it needs; a server without the section never loads it (test/ext-proc/kubernetes-client-loading.test.ts)",
};

let packed: Map<string, string[]>;
beforeAll(() => {
  // One npm call for all: the file list npm would pack (its prepack copies LICENSE in).
  const args = ["pack", "--dry-run", "--json", ...packages.flatMap((pkg) => ["-w", pkg.dir])];
  const out = execFileSync("npm", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const entries = JSON.parse(out) as Array<{ name: string; files: Array<{ path: string }> }>;
  packed = new Map(entries.map((entry) => [entry.name, entry.files.map((file) => file.path)]));
}, 120_000);

const target = (path: string) => path.replace(/^\.\//, "");

describe.each(packages.map((pkg) => [pkg.manifest.name, pkg] as const))("%s", (_name, { dir, manifest }) => {
  it("license, repository, module type and sideEffects", () => {
    const root = rootManifest();
    expect(manifest.license).toBe(root.license);
    expect(manifest.repository).toEqual({ ...root.repository, directory: dir });
    expect(manifest.type).toBe("module");
    // Importing a library module does nothing until a function is called; only the bins act on load.
    if (manifest.bin === undefined) expect(manifest.sideEffects).toBe(false);
    else expect(manifest.sideEffects).toEqual(["./bin/*.js", "./dist/bin.js"]);
  });

  it("exports: types before default for every entry, main/types agree with '.', every target packed", () => {
    const files = packed.get(manifest.name)!;
    const exportsMap = manifest.exports ?? {};
    expect(Object.keys(exportsMap)).toContain(".");
    expect(exportsMap["./package.json"]).toBe("./package.json");
    for (const [entry, conditions] of Object.entries(exportsMap)) {
      if (typeof conditions === "string") {
        expect(files, entry).toContain(target(conditions));
        continue;
      }
      expect(Object.keys(conditions), entry).toEqual(["types", "default"]);
      expect(files, entry).toContain(target(conditions.types!));
      expect(files, entry).toContain(target(conditions.default!));
    }
    const main = exportsMap["."] as Record<string, string>;
    expect(manifest.main).toBe(main.default);
    expect(manifest.types).toBe(main.types);
  });

  it("packs dist, README and LICENSE, and no tests or test helpers", () => {
    const files = packed.get(manifest.name)!;
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE"]));
    expect(files.some((file) => file.startsWith("dist/"))).toBe(true);
    expect(files.filter((file) => /(^|\/)(testing|fixtures)\/|\.test\.|(^|\/)src\//.test(file))).toEqual([]);
    expect(readFileSync(join(REPO, "LICENSE"), "utf8")).toContain("Apache License");
  });

  it("bin targets are committed, executable launchers (npm links them at npm ci, before any build)", () => {
    const bins = Object.values(manifest.bin ?? {});
    const files = packed.get(manifest.name)!;
    for (const bin of bins) {
      const path = join(dir, target(bin));
      const staged = execFileSync("git", ["ls-files", "-s", "--", path], { cwd: REPO, encoding: "utf8" });
      expect(staged, `${path} must be tracked by git`).toMatch(/^100755 /);
      expect(readFileSync(join(REPO, path), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
      expect(files).toContain(target(bin));
    }
  });

  it("sibling packages: exact workspace versions; @detour/otel (module state) only as a peer", () => {
    const versions = new Map(packages.map((pkg) => [pkg.manifest.name, pkg.manifest.version]));
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (versions.has(name)) expect(range, name).toBe(versions.get(name));
    }
    // setupDetour's options live in @detour/otel's module state; the middleware must share that
    // one copy, and as a dependency it also sent npm's resolver into a loop (see its README).
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain("@detour/otel");
  });

  it(`engines: ${LIBRARY_ENGINES} for libraries, ${SERVER_AND_CLI_ENGINES} for the server and CLI, and every runtime dependency allows them`, () => {
    const claimed = manifest.engines?.node;
    expect(claimed).toBe(expectedEngines(manifest));
    const narrower: string[] = [];
    for (const dep of runtimeClosure(join(REPO, dir))) {
      const range = dep.manifest.engines?.node;
      if (range === undefined || dep.manifest.name in ENGINES_EXCEPTIONS) continue;
      if (!semver.subset(claimed!, range, { includePrerelease: false })) narrower.push(`${dep.manifest.name}@${dep.manifest.version} (${range}) via ${dep.via}`);
    }
    expect(narrower, `dependencies that refuse part of ${claimed}`).toEqual([]);
  });
});

it("the root package: Node >= 22 for development (build tools declare it)", () => {
  expect(rootManifest().engines?.node).toBe(">=22");
  for (const tool of ["@bufbuild/protoc-gen-es"]) {
    const range = readManifest(join(REPO, "node_modules", tool)).engines?.node;
    expect(semver.subset(">=22", range ?? "*"), tool).toBe(true);
  }
});

interface Resolved {
  readonly manifest: Manifest;
  readonly via: string;
}

/** Node's lookup of a package from a directory: the nearest node_modules/<name> upwards. */
function resolvePackageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Everything a package loads at run time, as installed in this workspace: dependencies and
 * required peer dependencies, transitively (optional peers and devDependencies excluded).
 */
function runtimeClosure(start: string): Resolved[] {
  const seen = new Set<string>([realpathSync(start)]);
  const out: Resolved[] = [];
  const queue: Array<{ dir: string; via: string }> = [{ dir: realpathSync(start), via: readManifest(start).name }];
  while (queue.length > 0) {
    const { dir, via } = queue.shift()!;
    const manifest = readManifest(dir);
    const optional = manifest.peerDependenciesMeta ?? {};
    const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}).filter((name) => optional[name]?.optional !== true)];
    for (const name of names) {
      const found = resolvePackageDir(name, dir);
      if (found === undefined || seen.has(found)) continue;
      seen.add(found);
      const depManifest = readManifest(found);
      out.push({ manifest: depManifest, via });
      queue.push({ dir: found, via: `${via} > ${depManifest.name}` });
    }
  }
  return out;
}
