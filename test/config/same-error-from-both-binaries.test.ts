// The same bad detour.yaml gets the same verdict from both built binaries: the same DetourError
// code and message (after the program name) and the same exit status, from `detour-ext-proc
// --config` and from every `detour` command that loads the topology. Cases: bad-configs.yaml.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExtProcToExit } from "../support/ext-proc-process.js";

interface BadConfig {
  name: string;
  code: string;
  says: string;
  file: string;
}

const cases = parse(readFileSync(fileURLToPath(new URL("./bad-configs.yaml", import.meta.url)), "utf8")) as BadConfig[];
const CLI_BIN = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));

/**
 * The other `detour` commands that read --topology, with the flags they need besides (`demo`
 * loads it the same way, but only after taking the demo's lock and ports).
 */
const OTHER_COMMANDS: readonly (readonly string[])[] = [["envoy", "--stdout"], ["explain", "--to", "pricing"], ["ext-proc-config"], ["compose", "--out", "out"]];

function runDetour(args: readonly string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { cwd, timeout: 30_000, killSignal: "SIGKILL" }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stderr });
    });
  });
}

/** `detour: (code) message` -> `(code) message`. */
function verdict(stderr: string, program: string): string {
  expect(stderr.startsWith(`${program}: `), stderr).toBe(true);
  return stderr.slice(program.length + 2).trimEnd();
}

describe("same invalid detour.yaml, same error from detour and detour-ext-proc", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "detour-bad-config-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(cases.map((c, index) => [c.name, c, index] as const))("%s", async (_name, c, index) => {
    const file = `bad-${index}.yaml`;
    writeFileSync(join(dir, file), c.file);
    const [server, cli] = await Promise.all([runExtProcToExit(["--config", file], 30_000, dir), runDetour(["validate", "--topology", file], dir)]);
    const said = verdict(server.stderr, "detour-ext-proc");
    expect(said.startsWith(`(${c.code}) `), said).toBe(true);
    expect(said).toContain(c.says.replace("bad.yaml", file));
    expect(server.code).toBe(2);
    expect({ code: cli.code, said: verdict(cli.stderr, "detour") }).toEqual({ code: 2, said });
  });

  it("every command that loads the topology says what validate says", async () => {
    const c = cases.find((one) => one.file.includes("x-detour-token")) as BadConfig;
    writeFileSync(join(dir, "bad.yaml"), c.file);
    const validate = await runDetour(["validate", "--topology", "bad.yaml"], dir);
    const others = await Promise.all(OTHER_COMMANDS.map((command) => runDetour([...command, "--topology", "bad.yaml"], dir)));
    OTHER_COMMANDS.forEach((command, i) => {
      expect({ command: command.join(" "), code: others[i]?.code, stderr: others[i]?.stderr }).toEqual({ command: command.join(" "), code: 2, stderr: validate.stderr });
    });
  });
});
