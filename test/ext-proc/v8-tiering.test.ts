import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const distDir = new URL("../../packages/ext-proc/dist/", import.meta.url);
const applyTiering = fileURLToPath(new URL("server/apply-v8-tiering.js", distDir));
/** A function hot enough for V8 to tier it up, with its tier-up decisions printed by --trace-opt. */
const HOT_LOOP = "let s = 0; function f(x) { return x * 2 + 1; } for (let i = 0; i < 1e7; i++) s += f(i); if (s < 0) console.log(s);";

/** Which compilers compiled `f` (Node's own module loading, which runs before the flag is set, is left out). */
async function compiles(nodeArgs: string[]): Promise<{ maglev: boolean; turbofan: boolean }> {
  const { stdout } = await run(process.execPath, ["--trace-opt", ...nodeArgs, "-e", HOT_LOOP], { timeout: 20_000 });
  const lines = stdout.split("\n").filter((line) => line.includes("<JSFunction f "));
  return { maglev: lines.some((line) => line.includes("MAGLEV")), turbofan: lines.some((line) => line.includes("TURBOFAN")) };
}

/** Node 24's V8 uses Maglev by default; 20's and 22's do not (and seldom tier this loop to it when asked). */
const maglevByDefault = Number(process.versions.node.split(".")[0]) >= 24;

describe("the ext_proc server's V8 tiering", () => {
  it("runs without Maglev (on by default from Node 24 on), and TurboFan still compiles the hot code", async () => {
    if (maglevByDefault) expect((await compiles([])).maglev).toBe(true);
    expect(await compiles(["--import", applyTiering])).toEqual({ maglev: false, turbofan: true });
  });

  it.runIf(maglevByDefault)("leaves Maglev on when the command line asks for it", async () => {
    expect((await compiles(["--maglev", "--import", applyTiering])).maglev).toBe(true);
  });

  it("sets the flag before any other module of the binary is evaluated", () => {
    const bin = readFileSync(new URL("bin.js", distDir), "utf8");
    const firstImport = /^import\s+[^;]*;/m.exec(bin)?.[0];
    expect(firstImport).toBe('import "./server/apply-v8-tiering.js";');
  });
});
