import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { CliIo } from "../cli-io.js";
import { runCli } from "../cli-program.js";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const topology = `${repo}examples/detour.yaml`;

interface Case {
  name: string;
  args: string[];
  expect: Record<string, unknown> & { problemCodes?: string[] };
}

const { cases } = parse(readFileSync(new URL("./explain-cases.yaml", import.meta.url), "utf8")) as { cases: Case[] };

/** Runs `detour <args>` in-process and returns its exit code and output. */
export async function runDetour(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const input = new PassThrough();
  input.end(stdin);
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: input, env: {}, cwd: repo };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe("detour explain (cases in explain-cases.yaml)", () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const { code, stdout, stderr } = await runDetour(["explain", ...testCase.args, "--topology", topology, "--json"]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const output = JSON.parse(stdout) as Record<string, unknown> & { problems: Array<{ code: string }> };
      const { problemCodes, ...fields } = testCase.expect;
      expect(output).toMatchObject(fields);
      if (problemCodes) expect(output.problems.map((problem) => problem.code)).toEqual(problemCodes);
    });
  }
});

describe("detour explain, for people", () => {
  it("prints carriers, problems, winner, injection and route", async () => {
    const { code, stdout } = await runDetour([
      "explain",
      "-H", "x-detour: pricing=v2",
      "-H", "baggage: detour=catalog%3Dv2",
      "--to", "pricing",
      "--from", "cart/pr-7",
      "--topology", topology,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Hop: cart/pr-7 → pricing

      Carriers (precedence order: x-detour, baggage member 'detour', aliases):
        x-detour: "pricing=v2" → pricing=v2  [wins]
        baggage: "detour=catalog%3Dv2" → catalog=v2  [disagrees: the sidecar rewrites it to the winner]

      Problems:
        none

      Winning override: pricing=v2 (from x-detour)
      Injected by cart/pr-7's sidecar: *=pr-7 (the request's entries win per service)
      Effective override: pricing=v2,*=pr-7

      Route: cluster pricing@v2 (override)
        the override names pricing=v2: ext_proc sets x-detour-route: v2 and the route matching it wins

      Header edits before routing:
        set x-detour: pricing=v2,*=pr-7
        set baggage: detour=pricing%3Dv2%2C*%3Dpr-7
        set x-detour-route: v2
      Counted as: conflict, injected, requested, applied
      "
    `);
  });

  it("reads curl -v lines from stdin", async () => {
    const curl = "> GET / HTTP/1.1\n> Host: 127.0.0.1:10000\n> User-Agent: curl/8.0\n> x-detour: pricing=v2\n>\n";
    const { code, stdout } = await runDetour(["explain", "--stdin", "--to", "pricing", "--topology", topology, "--json"], curl);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ route: { cluster: "pricing@v2" } });
  });

  it("rejects an unknown workload and a malformed header line with exit code 2", async () => {
    const unknown = await runDetour(["explain", "--to", "pricing", "--from", "cart/v9", "--topology", topology]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--from cart\/v9 is not a workload .* \(workloads: frontend\/v1, catalog\/v1/);
    const malformed = await runDetour(["explain", "--to", "pricing", "-H", "x-detour pricing=v2", "--topology", topology]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/is not 'Name: value'/);
  });

  it("names the flag when --to is missing", async () => {
    const { code, stderr } = await runDetour(["explain", "--topology", topology]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/required option '--to <service>' not specified/);
  });
});
