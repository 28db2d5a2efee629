import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The layering docs/architecture.md describes, checked on the import lines of the sources:
// core -> ext-proc -> otel -> express / fastify -> cli, never to the right; and what ships in
// dist never imports test-only code (a `testing/` folder or a test file), which the build would
// otherwise compile into the package.

const repo = fileURLToPath(new URL("..", import.meta.url));
const LAYER: Readonly<Record<string, number>> = { core: 0, "ext-proc": 1, otel: 2, express: 3, fastify: 3, cli: 4 };

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === "gen" || name === "node_modules") continue;
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|mts)$/.test(name)) out.push(path);
  }
  return out;
}

const isTestOnly = (file: string) => file.endsWith(".test.ts") || file.split("/").includes("testing");
const imports = (file: string) => [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((match) => match[1]!);

describe.each(Object.keys(LAYER))("packages/%s", (pkg) => {
  const files = sources(join(repo, "packages", pkg, "src"));

  it("imports no package to its right", () => {
    const wrong = files.flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith("@detour/"))
        .map((spec) => spec.slice("@detour/".length).split("/")[0]!)
        .filter((target) => target !== pkg && target in LAYER && LAYER[target]! >= LAYER[pkg]!)
        .map((target) => `${relative(repo, file)} imports @detour/${target}`),
    );
    expect(wrong).toEqual([]);
  });

  it("ships no import of test-only code", () => {
    const wrong = files
      .filter((file) => !isTestOnly(file))
      .flatMap((file) => imports(file).filter((spec) => spec.startsWith(".") && (spec.split("/").includes("testing") || spec.endsWith(".test.js"))).map((spec) => `${relative(repo, file)} imports ${spec}`));
    expect(wrong).toEqual([]);
  });
});
