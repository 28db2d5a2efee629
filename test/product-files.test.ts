import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Product files stand on their own: they say what is and why, and cite only what a reader of the
// repository can open. Project history (issue numbers, rounds of work, earlier numbers) belongs
// in commit messages; design decisions belong in docs/architecture.md.

const repo = fileURLToPath(new URL("..", import.meta.url));
const SELF = relative(repo, fileURLToPath(import.meta.url));

/** What is checked: every text file under these, and the top-level README. */
const ROOTS = ["packages", "docs", "bench", "test", "examples", "scripts", "envoy", "docker", "proto", ".ci", "README.md"];
/** Generated, installed or built trees, and recorded benchmark output. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "gen", ".deps", ".build", "target", ".cache", "results"]);
const TEXT = /\.(ts|mts|cts|mjs|cjs|js|json|md|ya?ml|go|rs|lua|sh|toml|proto|txt)$|^(run|Dockerfile[^/]*|[a-z-]+)$/;

const RULES: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: "an issue number", pattern: /\bissues?\s*#?\d/i },
  { name: "a reference to the issue as a document", pattern: /\bthe issues?('s)?\b/i },
  { name: "a document outside the repository", pattern: /\b(DESIGN|STYLE)\.md\b|shared\/research|\.\.\/shared\b/ },
  { name: "a round of work", pattern: /\bthis\s+round\b/i },
  { name: "a time of day of earlier work", pattern: /\b(the\s+)?morning('s)?\s+run\b/i },
  { name: "an earlier value", pattern: /\(was \d/i },
];

function files(path: string, out: string[]): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return out;
  if (stat.isDirectory()) {
    for (const name of readdirSync(path)) if (!SKIPPED_DIRS.has(name)) files(join(path, name), out);
  } else if (stat.isFile() && TEXT.test(path.slice(path.lastIndexOf("/") + 1)) && stat.size < 2_000_000) {
    out.push(relative(repo, path));
  }
  return out;
}

describe("product files", () => {
  it("cite no document outside the repository and narrate no history", () => {
    const found: string[] = [];
    const checked = ROOTS.flatMap((root) => files(join(repo, root), [])).filter((file) => file !== SELF);
    for (const file of checked) {
      readFileSync(join(repo, file), "utf8")
        .split("\n")
        .forEach((line, index) => {
          for (const rule of RULES) if (rule.pattern.test(line)) found.push(`${file}:${index + 1}: ${rule.name}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(checked.length).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });

  it("catches each kind of phrase it is meant to", () => {
    // Each sample is put together from pieces, so that this file holds none of the phrases itself.
    const samples = [
      ["arrives with issue ", "7"],
      ["(DESIGN", ".md §2)"],
      ["Work done this ", "round"],
      ["the morning ", "run"],
      ["89 MiB (was ", "129/171 MiB)"],
      ["not in the issue's ", "list"],
      ["see ..", "/shared/notes"],
    ].map((pieces) => pieces.join(""));
    for (const sample of samples) expect(RULES.some((rule) => rule.pattern.test(sample)), sample).toBe(true);
    for (const fine of ["envoyproxy/envoy#35388", "zod issue codes", "against that round's plain Envoy", "issuedAt"]) expect(RULES.some((rule) => rule.pattern.test(fine)), fine).toBe(false);
  });
});
