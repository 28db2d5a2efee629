import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// Every package README documents its whole public surface, and its TypeScript examples compile
// against the built packages as a user would import them (npm test builds first).

const repo = fileURLToPath(new URL("..", import.meta.url));
const packages = readdirSync(join(repo, "packages")).sort();

/** The source file of each entry point in a package's `exports` map (`./x` -> src/x.ts). */
function entryPoints(pkg: string): string[] {
  const manifest = JSON.parse(readFileSync(join(repo, "packages", pkg, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  return Object.keys(manifest.exports)
    .filter((key) => key !== "./package.json")
    .map((key) => join(repo, "packages", pkg, "src", key === "." ? "index.ts" : `${key.slice(2)}.ts`));
}

/** The names an entry point re-exports or declares (values and types alike). */
function exportedNames(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const names: string[] = [];
  for (const match of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of match[1]!.split(",")) {
      const name = part.replace(/^\s*type\s+/, "").trim();
      if (name !== "") names.push(name.includes(" as ") ? name.split(" as ")[1]!.trim() : name);
    }
  }
  for (const match of text.matchAll(/export\s+(?:declare\s+)?(?:const|function|class|interface|type|enum)\s+(\w+)/g)) names.push(match[1]!);
  return names;
}

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

describe.each(packages)("packages/%s/README.md", (pkg) => {
  const readme = readFileSync(join(repo, "packages", pkg, "README.md"), "utf8");

  it("names every export of every entry point", () => {
    const missing = entryPoints(pkg).flatMap((file) => exportedNames(file).filter((name) => !new RegExp(`\\b${name}\\b`).test(readme)));
    expect(missing, `exported but not in packages/${pkg}/README.md`).toEqual([]);
  });
});

describe("README TypeScript examples", () => {
  // Inside the repository, so `@detour/*` and the dependencies resolve through node_modules.
  const dir = join(repo, ".cache", `readme-examples-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("compile against the built packages", async () => {
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    for (const pkg of packages) {
      tsBlocks(readFileSync(join(repo, "packages", pkg, "README.md"), "utf8")).forEach((code, index) => {
        const file = `${pkg}-${index + 1}.ts`;
        // Each example is its own module, as a file of its own would be.
        writeFileSync(join(dir, file), `${code}\nexport {};\n`);
        files.push(file);
      });
    }
    expect(files.length).toBeGreaterThan(0);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../../tsconfig.base.json",
        compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, noUnusedLocals: false },
        files,
      }),
    );
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    const result = await promisify(execFile)(process.execPath, [tsc, "-p", dir], { cwd: dir }).then(
      () => ({ code: 0, output: "" }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, output: error.stdout ?? "" }),
    );
    // tsc names the file (<package>-<n>.ts: the n-th ts block of that README) and the line.
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});
